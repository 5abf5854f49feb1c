"""Outbox retries: next_attempt_at (backoff), locked_until (a worker's expiring claim), and the
`sending` and `failed` states

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 02:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OLD_STATUS = sa.Enum('queued', 'sent', name='emailstatus', native_enum=False,
                     create_constraint=True, length=20)
NEW_STATUS = sa.Enum('queued', 'sending', 'sent', 'failed', name='emailstatus',
                     native_enum=False, create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    # Mail queued before this revision is due now, in the order it was written.
    op.execute("UPDATE outbox_emails SET next_attempt_at = created_at")
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.alter_column('next_attempt_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column('status', existing_type=OLD_STATUS, type_=NEW_STATUS,
                              existing_nullable=False)
        batch_op.drop_index('ix_outbox_status_created')
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    # The old states cannot say "being sent" or "given up": both go back to queued.
    op.execute("UPDATE outbox_emails SET status = 'queued' WHERE status IN ('sending', 'failed')")
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_status_created', ['status', 'created_at'], unique=False)
        batch_op.alter_column('status', existing_type=NEW_STATUS, type_=OLD_STATUS,
                              existing_nullable=False)
        batch_op.drop_column('locked_until')
        batch_op.drop_column('next_attempt_at')
