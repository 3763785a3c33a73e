"""Rate-limit buckets answer in one statement (`granted` tells the caller whether its
UPDATE took a token), and on PostgreSQL are unlogged: a bucket is worth nothing after a
crash, and its writes then need no WAL flush on every request.

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
    op.add_column(
        "rate_limit_buckets",
        sa.Column("granted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_buckets SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_buckets SET LOGGED")
    with op.batch_alter_table("rate_limit_buckets") as table:
        table.drop_column("granted")
