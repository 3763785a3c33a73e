"""messages.purpose: why a message is sent when it is not the business's own message;
`confirmation` for a subscription form's confirmation email (sent to an address not yet
subscribed), null otherwise.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("purpose", sa.String(32), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_column("purpose")
