"""The messaging settings (one row: frequency caps, quiet hours, the default time zone),
and messages.held_until: a message queued in its contact's quiet hours waits for it.

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
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frequency_caps", sa.JSON(), nullable=False),
        sa.Column("quiet_hours", sa.JSON(), nullable=True),
        sa.Column("default_timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
    )
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
        table.create_index(op.f("ix_messages_held_until"), ["held_until"], unique=False)


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_index(op.f("ix_messages_held_until"))
        table.drop_column("held_until")
    op.drop_table("settings")
