"""User groups: user_groups (name unique per team in any case, policies as JSON) and
user_group_members (unique per group and member, deleted with their group).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_groups",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_groups_customer_id", "user_groups", ["customer_id"], unique=False)
    op.create_index("uq_user_groups_name", "user_groups", ["customer_id", sa.text("lower(name)")],
                    unique=True)
    op.create_table(
        "user_group_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["user_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "member_id", name="uq_user_group_members"),
    )
    op.create_index("ix_user_group_members_member", "user_group_members", ["member_id"], unique=False)


def downgrade():
    op.drop_index("ix_user_group_members_member", table_name="user_group_members")
    op.drop_table("user_group_members")
    op.drop_index("uq_user_groups_name", table_name="user_groups")
    op.drop_index("ix_user_groups_customer_id", table_name="user_groups")
    op.drop_table("user_groups")
