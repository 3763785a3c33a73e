"""Contacts, their black lists, subscriptions and consent ledger, channel addresses,
push subscriptions and notes; variable definitions, sources, categories; the outbox.

Constraint names follow plexus.db.NAMING_CONVENTION.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _moment(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _contact_id(table: str) -> list:
    return [
        sa.Column("contact_id", sa.String(26), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            ondelete="CASCADE",
            name=f"fk_{table}_contact_id_contacts",
        ),
    ]


def upgrade():
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(20)),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("birthday", sa.Date()),
        sa.Column("gender", sa.SmallInteger(), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("source", sa.String(100)),
        sa.Column("avatar_url", sa.String(2048)),
        sa.Column("address", sa.JSON()),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("contact_score", sa.Float(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("user_id", name="uq_contacts_user_id"),
        sa.UniqueConstraint("email", name="uq_contacts_email"),
        sa.UniqueConstraint("phone", name="uq_contacts_phone"),
    )
    op.create_table(
        "blacklists",
        *_contact_id("blacklists"),
        sa.Column("list", sa.String(16), nullable=False),
        _moment("since"),
        sa.Column("reason", sa.String(500)),
        sa.PrimaryKeyConstraint("contact_id", "list", name="pk_blacklists"),
    )
    op.create_table(
        "subscriptions",
        *_contact_id("subscriptions"),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _moment("changed_at"),
        sa.Column("reason", sa.String(500)),
        sa.PrimaryKeyConstraint("contact_id", "channel", name="pk_subscriptions"),
    )
    op.create_table(
        "subscription_history",
        sa.Column("id", sa.String(26), nullable=False),
        *_contact_id("subscription_history"),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("previous_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("actor", sa.String(255), nullable=False),
        _moment("changed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_history"),
    )
    op.create_index(
        "ix_subscription_history_contact_id_channel_status",
        "subscription_history",
        ["contact_id", "channel", "status"],
    )
    op.create_index(
        "ix_subscription_history_contact_id_id", "subscription_history", ["contact_id", "id"]
    )
    op.create_table(
        "channel_addresses",
        *_contact_id("channel_addresses"),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("contact_id", "channel", name="pk_channel_addresses"),
        sa.UniqueConstraint("channel", "address", name="uq_channel_addresses_channel_address"),
    )
    op.create_table(
        "webpush_subscriptions",
        sa.Column("id", sa.String(26), nullable=False),
        *_contact_id("webpush_subscriptions"),
        sa.Column("device", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("p256dh", sa.String(100), nullable=False),
        sa.Column("auth", sa.String(32), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webpush_subscriptions"),
        sa.UniqueConstraint("endpoint", name="uq_webpush_subscriptions_endpoint"),
    )
    op.create_index("ix_webpush_subscriptions_contact_id", "webpush_subscriptions", ["contact_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.String(26), nullable=False),
        *_contact_id("notes"),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_contact_id_id", "notes", ["contact_id", "id"])
    op.create_table(
        "variable_definitions",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("value", sa.JSON()),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_variable_definitions"),
    )
    op.create_table(
        "sources",
        sa.Column("name", sa.String(100), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_sources"),
    )
    op.create_table(
        "categories",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.String(500)),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_categories"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )


def downgrade():
    for table in (
        "outbox",
        "categories",
        "sources",
        "variable_definitions",
        "notes",
        "webpush_subscriptions",
        "channel_addresses",
        "subscription_history",
        "subscriptions",
        "blacklists",
        "contacts",
    ):
        op.drop_table(table)
