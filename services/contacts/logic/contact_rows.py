"""Contacts as plain rows, for the batch path: what the rules of contacts.insert and
contacts.change read and write of a contact (its columns and its subscriptions), without
the ORM's instrumentation. The contact resource is read from them as from a Contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ColumnElement, null, select
from sqlalchemy.orm import Session

from services.contacts.models import Contact, Subscription

CONTACTS = Contact.__table__
SUBSCRIPTIONS = Subscription.__table__
COLUMNS = tuple(CONTACTS.c.keys())
# None written to a JSON column is JSON's null; a column never written is SQL NULL (the
# ORM leaves it out of the INSERT). A ContactRow remembers which it is, to insert the same.
JSON_COLUMNS = frozenset(column.name for column in CONTACTS.c if isinstance(column.type, JSON))


class ContactRow:
    """A contact's columns as attributes, and its child rows as lists (new: empty)."""

    __slots__ = (
        *COLUMNS,
        "written_json",
        "subscriptions",
        "channel_addresses",
        "webpush_subscriptions",
        "app_push_tokens",
    )

    def __init__(self, **columns):
        object.__setattr__(self, "written_json", JSON_COLUMNS & columns.keys())
        for name in COLUMNS:
            object.__setattr__(self, name, columns.get(name))
        self.subscriptions = []
        self.channel_addresses, self.webpush_subscriptions = [], []
        self.app_push_tokens = []

    def __setattr__(self, name: str, value) -> None:
        if name in JSON_COLUMNS:
            self.written_json.add(name)
        object.__setattr__(self, name, value)

    def columns(self, names=COLUMNS) -> dict:
        return {name: getattr(self, name) for name in names}

    def insert_values(self) -> dict:
        """The columns as the ORM would insert them for a new Contact in this state."""
        values = self.columns()
        for name in JSON_COLUMNS - self.written_json:
            if values[name] is None:
                values[name] = null()
        return values


@dataclass(slots=True)
class NewSubscription:
    """A subscription row made by this batch (channels without a row are "never")."""

    contact_id: str
    channel: str
    status: str | None = None
    reason: str | None = None
    changed_at: datetime | None = None

    def columns(self) -> dict:
        return {
            "contact_id": self.contact_id,
            "channel": self.channel,
            "status": self.status,
            "reason": self.reason,
            "changed_at": self.changed_at,
        }


def stored(session: Session, condition: ColumnElement[bool]) -> list[ContactRow]:
    """The stored contacts matching `condition`, with their subscriptions: two queries.
    Their subscriptions are read-only rows (a batch only adds new ones), and their other
    child rows are not loaded (None): the batch never shows a stored contact whole."""
    contacts = {}
    for row in session.execute(select(CONTACTS).where(condition)):
        contact = contacts[row.id] = ContactRow(**row._mapping)
        contact.channel_addresses = contact.webpush_subscriptions = None
        contact.app_push_tokens = None
    if contacts:
        for row in session.execute(
            select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.contact_id.in_(list(contacts)))
        ):
            contacts[row.contact_id].subscriptions.append(row)
    return list(contacts.values())
