"""activity_items.trigger (JSON, nullable): what caused a message item, as messaging's
event carried it. On PostgreSQL the column added to the partitioned table reaches every
partition, and the partitions made later (LIKE activity_items) have it.

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
    op.add_column("activity_items", sa.Column("trigger", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("activity_items") as table:
        table.drop_column("trigger")
