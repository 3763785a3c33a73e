"""created_by / updated_by on the account-wide definitions: variables, sources,
categories (plexus.db.Authored). Rows stored before say null: nothing recorded who made
them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("variable_definitions", "sources", "categories")


def upgrade():
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("created_by", sa.String(200), nullable=True))
            table.add_column(sa.Column("updated_by", sa.String(200), nullable=True))


def downgrade():
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.drop_column("updated_by")
            table.drop_column("created_by")
