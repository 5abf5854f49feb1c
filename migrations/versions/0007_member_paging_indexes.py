"""Flat with size (issue 14): live-member paging indexes, customers.member_count, and pg_trgm
search indexes on PostgreSQL.

- ix_members_live_page (customer_id, created_at, id) WHERE deleted_at IS NULL: the team page
  and the member list walk it in order and take their page's ids from it alone (a covering
  index), then load those 25 rows; count and OFFSET never touch the table.
- ix_members_live_role (customer_id, role, created_at, id) WHERE deleted_at IS NULL: the same
  for a role filter, and the billing-manager count of the team page's header.
- customers.member_count: the number of live members, kept by the services in the same
  transaction as the change (app/services/counts.py), backfilled here. The page's "of N members"
  and the API's total_count read it instead of counting the team on every request.
- PostgreSQL only: GIN trigram indexes on lower(email) and lower(name) of live members, which
  serve the search's `lower(email) LIKE '%…%'`. They need the pg_trgm extension (trusted since
  PostgreSQL 13, so the database owner may create it); when it cannot be created the indexes
  are skipped with a log line and search falls back to scanning the team's rows (as on SQLite).

Revision ID: 0007
Revises: 0006
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
LIVE = sa.text("deleted_at IS NULL")
TRIGRAM = {"ix_members_live_email_trgm": "email", "ix_members_live_name_trgm": "name"}


def _pg_trgm(bind) -> bool:
    """Create pg_trgm if it is missing; False (and a log line) when this role cannot."""
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    try:
        with bind.begin_nested():  # a SAVEPOINT: a refusal must not abort the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        return True
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm is not available (%s); member search will scan the team's rows "
                    "instead of using a trigram index. Run CREATE EXTENSION pg_trgm as a superuser "
                    "and `flask db downgrade 0006 && flask db upgrade` to add the indexes.",
                    str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
        return False


def upgrade():
    op.add_column("customers", sa.Column("member_count", sa.Integer(), nullable=False,
                                         server_default="0"))
    op.execute("UPDATE customers SET member_count = (SELECT count(*) FROM members"
               " WHERE members.customer_id = customers.id AND members.deleted_at IS NULL)")
    op.create_index("ix_members_live_page", "members", ["customer_id", "created_at", "id"],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index("ix_members_live_role", "members", ["customer_id", "role", "created_at", "id"],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _pg_trgm(bind):
        for name, column in TRIGRAM.items():
            op.execute(f"CREATE INDEX {name} ON members USING gin (lower({column}) gin_trgm_ops)"
                       " WHERE deleted_at IS NULL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")  # the extension stays: others may use it
    op.drop_index("ix_members_live_role", table_name="members")
    op.drop_index("ix_members_live_page", table_name="members")
    op.drop_column("customers", "member_count")  # SQLite 3.35+ drops a column in place
