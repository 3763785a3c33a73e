"""Rate-limit buckets move into each gateway process's memory; replicas share a key's
limit by counting each other in `gateway_replicas`.

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
    op.drop_table("rate_limit_buckets")


def downgrade():
    op.create_table(
        "rate_limit_buckets",
        sa.Column("api_key_id", sa.String(26), primary_key=True),
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_buckets SET UNLOGGED")
    op.drop_index("ix_gateway_replicas_seen_at", "gateway_replicas")
    op.drop_table("gateway_replicas")
