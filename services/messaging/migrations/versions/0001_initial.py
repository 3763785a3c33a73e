"""Templates, messages and their status history, the event outbox and the delivery
outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _outbox_table(name: str) -> None:
    """Both outboxes have the shape of plexus.outbox.OutboxRow."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade():
    _outbox_table("delivery_outbox")
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("template_id", sa.String(length=26), nullable=True),
        sa.Column("resend_of", sa.String(length=26), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_provider_id"), ["provider_id"], unique=False)

    _outbox_table("outbox")
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
    )
    op.create_table(
        "message_statuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_statuses_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_statuses")),
    )
    with op.batch_alter_table("message_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_statuses_message_id"), ["message_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("message_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_statuses_message_id"))

    op.drop_table("message_statuses")
    op.drop_table("templates")
    op.drop_table("outbox")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_provider_id"))
        batch_op.drop_index(batch_op.f("ix_messages_contact_id"))

    op.drop_table("messages")
    op.drop_table("delivery_outbox")
