"""Member status: members.accepted_at, set at the first proven sign-in, claim or hand-off.

Existing members are accepted from their earliest portal session that was not minted by the
vendor's API (a sign-in, a claim, an embed hand-off) or their earliest claimed seat.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not a batch copy: on SQLite a copy would lose the expression index
    # uq_members_live_email, which reflection cannot read.
    op.add_column("members", sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE members SET accepted_at = ("
        " SELECT MIN(proven.at) FROM ("
        "  SELECT portal_sessions.created_at AS at FROM portal_sessions"
        "   WHERE portal_sessions.member_id = members.id AND portal_sessions.kind <> 'api'"
        "  UNION ALL"
        "  SELECT seats.claimed_at AS at FROM seats"
        "   WHERE seats.member_id = members.id AND seats.claimed_at IS NOT NULL"
        " ) AS proven)"
    )


def downgrade():
    op.drop_column("members", "accepted_at")  # SQLite 3.35+ drops a column in place
