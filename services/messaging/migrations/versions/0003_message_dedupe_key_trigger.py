"""messages.dedupe_key (unique, nullable): queue_batch's idempotency key; and
messages.trigger (JSON, nullable): what caused the message (a campaign, a workflow).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("dedupe_key", sa.String(200), nullable=True))
        table.add_column(sa.Column("trigger", sa.JSON(), nullable=True))
        table.create_unique_constraint(op.f("uq_messages_dedupe_key"), ["dedupe_key"])


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_constraint(op.f("uq_messages_dedupe_key"), type_="unique")
        table.drop_column("trigger")
        table.drop_column("dedupe_key")
