"""Black lists of addresses, account-wide, and suppression records of erased contacts.

The per-contact rows of `blacklists` move onto their contact's current address (its
email, phone or Viber user id) in `blacklist_entries`, and that table goes: a contact is
now listed while its current address is on the list, whoever put it there. A row whose
contact has no address of that kind any more has nothing to move to, and goes too.
`suppressed_addresses` holds keyed hashes only (services/contacts/logic/suppression.py).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Where each list's address is: (SQL of the contact's address, the join that reaches it).
ADDRESSES = {
    "email": ("c.email", ""),
    "phone": ("c.phone", ""),
    "viber": (
        "a.address",
        "JOIN channel_addresses a ON a.contact_id = c.id AND a.channel = 'viber'",
    ),
}


def upgrade():
    op.create_table(
        "blacklist_entries",
        sa.Column("list", sa.String(16), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("list", "value", name="pk_blacklist_entries"),
    )
    op.create_table(
        "suppressed_addresses",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("unsubscribed", sa.Boolean(), nullable=False),
        sa.Column("blacklisted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "digest", name="pk_suppressed_addresses"),
    )
    for name, (address, join) in ADDRESSES.items():
        op.execute(
            "INSERT INTO blacklist_entries (list, value, added_at, reason, source) "
            f"SELECT b.list, {address}, b.since, b.reason, 'manual' "
            f"FROM blacklists b JOIN contacts c ON c.id = b.contact_id {join} "
            f"WHERE b.list = '{name}' AND {address} IS NOT NULL"
        )
    op.drop_table("blacklists")


def downgrade():
    op.create_table(
        "blacklists",
        sa.Column("contact_id", sa.String(26), nullable=False),
        sa.Column("list", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            ondelete="CASCADE",
            name="fk_blacklists_contact_id_contacts",
        ),
        sa.PrimaryKeyConstraint("contact_id", "list", name="pk_blacklists"),
    )
    # Back onto the contacts holding the addresses; entries no contact holds are lost.
    for name, (address, join) in ADDRESSES.items():
        op.execute(
            "INSERT INTO blacklists (contact_id, list, since, reason) "
            "SELECT c.id, e.list, e.added_at, e.reason "
            f"FROM contacts c {join} JOIN blacklist_entries e "
            f"ON e.list = '{name}' AND e.value = {address}"
        )
    op.drop_table("suppressed_addresses")
    op.drop_table("blacklist_entries")
