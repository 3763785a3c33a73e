"""Indexes of the contacts list's filters: status (newest first within it), a channel's
subscribers, and a prefix of the first or last name in any case.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NAMES = ("first_name", "last_name")


def upgrade():
    op.create_index("ix_contacts_status_id", "contacts", ["status", "id"])
    op.create_index("ix_subscriptions_channel_status", "subscriptions", ["channel", "status"])
    # text_pattern_ops: PostgreSQL's LIKE 'x%' uses the index whatever the collation.
    ops = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    for name in NAMES:
        op.execute(f"CREATE INDEX ix_contacts_lower_{name} ON contacts (lower({name}){ops})")


def downgrade():
    for name in NAMES:
        op.drop_index(f"ix_contacts_lower_{name}", "contacts")
    op.drop_index("ix_subscriptions_channel_status", "subscriptions")
    op.drop_index("ix_contacts_status_id", "contacts")
