"""The organization's brand: accent colour, logo (URL or uploaded image) and product URL.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("accent_color", sa.String(length=7), nullable=True))
        batch.add_column(sa.Column("logo_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("logo_image", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("logo_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("product_url", sa.String(length=2048), nullable=True))


def downgrade():
    with op.batch_alter_table("organizations") as batch:
        for column in ("product_url", "logo_type", "logo_image", "logo_url", "accent_color"):
            batch.drop_column(column)
