"""templates.created_by / updated_by (plexus.db.Authored). Rows stored before say null.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("templates") as table:
        table.add_column(sa.Column("created_by", sa.String(200), nullable=True))
        table.add_column(sa.Column("updated_by", sa.String(200), nullable=True))


def downgrade():
    with op.batch_alter_table("templates") as table:
        table.drop_column("updated_by")
        table.drop_column("created_by")
