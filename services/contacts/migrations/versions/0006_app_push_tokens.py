"""app_push_tokens: a contact's mobile app device tokens (the app_push channel).

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
    op.create_table(
        "app_push_tokens",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("contact_id", sa.String(26), nullable=False),
        sa.Column("token", sa.String(1024), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            ondelete="CASCADE",
            name="fk_app_push_tokens_contact_id_contacts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_app_push_tokens"),
        sa.UniqueConstraint("token", name="uq_app_push_tokens_token"),
    )
    op.create_index("ix_app_push_tokens_contact_id", "app_push_tokens", ["contact_id"])


def downgrade():
    op.drop_index("ix_app_push_tokens_contact_id", "app_push_tokens")
    op.drop_table("app_push_tokens")
