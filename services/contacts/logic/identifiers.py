"""Who holds each identifier (user_id, email, phone) a request mentions: to match an
imported contact to a stored one, and to refuse an identifier that belongs to another
contact, without a query per item."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plexus.contract.contacts import IDENTIFIERS
from plexus.errors import Conflict
from services.contacts.logic import contact_rows
from services.contacts.logic.conflicts import TAKEN
from services.contacts.models import Contact


class Owners:
    # The contacts held are Contacts or contact_rows.ContactRows: anything with their
    # identifiers as attributes, compared by identity.
    def __init__(self, contacts: Iterable[Contact] = ()):
        self.holder: dict[str, dict[str, Contact]] = {name: {} for name in IDENTIFIERS}
        self.held: dict[tuple[str, str], str] = {}  # (contact id, identifier) -> value
        for contact in contacts:
            self.claim(contact)

    @classmethod
    def load(
        cls, session: Session, contacts: Iterable[dict], options=(), as_rows: bool = False
    ) -> Owners:
        """The stored holders of the identifiers in `contacts`: ORM Contacts (loaded with
        `options`), or plain contact_rows when `as_rows` (a batch's fast pass)."""
        wanted = {name: set() for name in IDENTIFIERS}
        for values in contacts:
            for name in IDENTIFIERS:
                if values.get(name):
                    wanted[name].add(values[name])
        conditions = [getattr(Contact, name).in_(found) for name, found in wanted.items() if found]
        if not conditions:
            return cls()
        if as_rows:
            return cls(contact_rows.stored(session, or_(*conditions)))
        return cls(session.scalars(select(Contact).where(or_(*conditions)).options(*options)))

    def match(self, values: dict) -> Contact | None:
        """The stored contact these values describe: by user_id, else email, else phone."""
        for name in IDENTIFIERS:
            contact = self.holder[name].get(values.get(name))
            if contact is not None:
                return contact
        return None

    def check_free(self, values: dict, contact: Contact | None = None) -> None:
        """Conflict naming each identifier in `values` that another contact holds."""
        taken = {
            name: [TAKEN]
            for name in IDENTIFIERS
            if values.get(name) is not None
            and self.holder[name].get(values[name]) not in (None, contact)
        }
        if taken:
            raise Conflict(", ".join(taken) + " " + TAKEN, taken)

    def claim(self, contact: Contact) -> None:
        """Record the contact's identifiers as they are now (after a write)."""
        for name in IDENTIFIERS:
            before = self.held.pop((contact.id, name), None)
            if before is not None and self.holder[name].get(before) is contact:
                del self.holder[name][before]
            value = getattr(contact, name)
            if value is not None:
                self.holder[name][value] = contact
                self.held[(contact.id, name)] = value
