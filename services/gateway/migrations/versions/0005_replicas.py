"""Rate-limit buckets move into each gateway process's memory; replicas share a key's
limit by counting each other in `gateway_replicas`.

`rate_limit_buckets` is no longer used but stays: gateway processes of the previous
version, still serving during a rolling upgrade, spend from it. A later migration drops
it once none can be running.

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
    op.create_table(
        "gateway_replicas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_gateway_replicas_seen_at", "gateway_replicas", ["seen_at"])


def downgrade():
    op.drop_index("ix_gateway_replicas_seen_at", "gateway_replicas")
    op.drop_table("gateway_replicas")
