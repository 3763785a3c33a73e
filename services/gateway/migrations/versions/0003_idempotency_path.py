"""Keep the request path of an idempotency record, so erasure can find it.

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
    with op.batch_alter_table("idempotency_records") as table:
        table.add_column(sa.Column("path", sa.String(2048)))


def downgrade():
    with op.batch_alter_table("idempotency_records") as table:
        table.drop_column("path")
