"""rate_buckets: each sender's provider rate limit, one row a sender shared by all its
processes (the moment its next send may go).

UNLOGGED on PostgreSQL: every send updates its sender's row, and a commit that wrote only
to an unlogged table does not wait for the WAL to reach the disk (~0.3 ms a claim here,
bench/rate_limit.py). What that gives up is harmless: after a crash or on a promoted
standby the table is empty, and each bucket starts full again (one burst).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_free", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_buckets")),
        prefixes=unlogged,
    )


def downgrade():
    op.drop_table("rate_buckets")
