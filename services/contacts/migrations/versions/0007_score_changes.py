"""The keys of contact_score changes applied by add_score (a retry adds nothing twice).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "score_changes",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_score_changes")),
    )


def downgrade():
    op.drop_table("score_changes")
