"""contacts.created_via: how the contact arrived (api, import, event, order, form).

Rows stored before it say `api`: an import went through the same API with a key, and
nothing stored tells its contacts apart from those created one by one.

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
    with op.batch_alter_table("contacts") as table:
        table.add_column(
            sa.Column("created_via", sa.String(16), nullable=False, server_default="api")
        )


def downgrade():
    with op.batch_alter_table("contacts") as table:
        table.drop_column("created_via")
