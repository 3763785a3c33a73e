"""A contact's addresses, and what the account knows of each apart from the contact: its
black-list entry, and the suppression record an erased contact left of it.

Addresses come in four kinds: `email` and `phone` (the contact's own fields), `viber`
(the Viber user id) and `telegram` (the chat id), each reaching one channel; the first
three have a black list. Suppression records hold an address only as its keyed hash:
HMAC-SHA256 under the suppression secret, which the service's Database dependency puts
into every session's `info` (services/contacts/settings.py), so that no rule can hash
with another key, or with none."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from services.contacts.logic.representation import contact_resource
from services.contacts.models import BlacklistEntry, SuppressedAddress

SUPPRESSION_KEY = "suppression_key"  # in Session.info: the secret, as bytes

# kind: (the channel it reaches, its black list or None)
KINDS = {
    "email": ("email", "email"),
    "phone": ("sms", "phone"),
    "viber": ("viber", "viber"),
    "telegram": ("telegram", None),
}
LISTS = {"email": "email", "phone": "phone", "viber": "viber"}  # black list: its kind
CONTACT_FIELDS = ("email", "phone")  # kinds that are fields of the contact itself


def channel_address(contact, channel: str) -> str | None:
    for row in contact.channel_addresses or ():
        if row.channel == channel:
            return row.address
    return None


def addresses_of(contact) -> dict[str, str]:
    """Every address the contact has now, by kind."""
    found = {
        "email": contact.email,
        "phone": contact.phone,
        "viber": channel_address(contact, "viber"),
        "telegram": channel_address(contact, "telegram"),
    }
    return {kind: value for kind, value in found.items() if value is not None}


def digest(session: Session, kind: str, value: str) -> str:
    """The keyed hash an erased contact's address is kept as."""
    key = session.info.get(SUPPRESSION_KEY)
    if not key:
        raise RuntimeError("no suppression secret in the session (Database session_info)")
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class KnownAddresses:
    """Black-list entries and suppression records of some addresses, as a change sees
    them while it goes: what it adds or removes counts at once, before anything is
    written (the rules run with autoflush off). Looked up when first asked, or loaded
    for a whole import batch beforehand (`preload`: two queries, not two an item)."""

    def __init__(self, session: Session):
        self.session = session
        self.entries: dict[tuple[str, str], BlacklistEntry | None] = {}
        self.suppressions: dict[tuple[str, str], SuppressedAddress | None] = {}

    def preload(self, addresses: dict[str, set[str]]) -> KnownAddresses:
        """Everything about `addresses` ({kind: values}) in two queries."""
        self.load_entries(addresses)
        hashes = {
            (kind, digest(self.session, kind, value))
            for kind, values in addresses.items()
            for value in values
        }
        self.suppressions.update(dict.fromkeys(hashes))
        by_kind = {}
        for kind, hashed in hashes:
            by_kind.setdefault(kind, set()).add(hashed)
        conditions = [
            and_(SuppressedAddress.kind == kind, SuppressedAddress.digest.in_(found))
            for kind, found in by_kind.items()
        ]
        if conditions:
            for row in self.session.scalars(select(SuppressedAddress).where(or_(*conditions))):
                self.suppressions[(row.kind, row.digest)] = row
        return self

    def load_entries(self, addresses: dict[str, set[str]]) -> KnownAddresses:
        """The black-list entries of `addresses` ({kind: values}) in one query."""
        listed = [
            and_(BlacklistEntry.list == name, BlacklistEntry.value.in_(values))
            for name, kind in LISTS.items()
            if (values := addresses.get(kind))
        ]
        for name, kind in LISTS.items():
            self.entries.update({(name, value): None for value in addresses.get(kind, ())})
        if listed:
            for entry in self.session.scalars(select(BlacklistEntry).where(or_(*listed))):
                self.entries[(entry.list, entry.value)] = entry
        return self

    def entry(self, list_name: str, value: str | None) -> BlacklistEntry | None:
        if value is None:
            return None
        key = (list_name, value)
        if key not in self.entries:
            self.entries[key] = self.session.get(BlacklistEntry, key)
        return self.entries[key]

    def suppressed(self, kind: str, value: str) -> SuppressedAddress | None:
        key = (kind, digest(self.session, kind, value))
        if key not in self.suppressions:
            self.suppressions[key] = self.session.get(SuppressedAddress, key)
        return self.suppressions[key]

    def listed(self, entry: BlacklistEntry) -> None:
        self.entries[(entry.list, entry.value)] = entry

    def forgotten(self, row: SuppressedAddress) -> None:
        self.suppressions[(row.kind, row.digest)] = None

    def blacklisted(self, contact) -> list[dict]:
        """The contact's black lists as the resource reads them: each list its current
        address is on, with when and why it was put there."""
        found, addresses = [], addresses_of(contact)
        for list_name, kind in LISTS.items():
            entry = self.entry(list_name, addresses.get(kind))
            if entry is not None:
                found.append({"list": list_name, "since": entry.added_at, "reason": entry.reason})
        return found


def resource_of(session: Session, contact) -> dict:
    """The contact resource of a contact the ORM holds, its black lists read from the
    entries of its current addresses (after a write, in its transaction)."""
    addresses = {kind: {value} for kind, value in addresses_of(contact).items()}
    known = KnownAddresses(session).load_entries(addresses)
    return contact_resource(contact, known.blacklisted(contact))
