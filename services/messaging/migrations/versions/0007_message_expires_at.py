"""messages.expires_at: when a sent web push or Viber message not delivered by then is
`expired` (the expiry timer reads only the due ones).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        table.create_index(op.f("ix_messages_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_index(op.f("ix_messages_expires_at"))
        table.drop_column("expires_at")
