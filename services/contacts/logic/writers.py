"""Where the rows of a contact change go. The rules (contacts.insert and change,
subscriptions.change) say what to write; a writer says how:

- SessionWriter: ORM objects in the session, written by its flush. Single requests, and
  an import's item-by-item retry.
- BatchWriter: plain rows (contact_rows) kept in memory while a whole import batch is
  applied, then written by a few multi-row Core statements (an UPDATE a set of changed
  columns, one INSERT a table). The ORM's unit of work costs more than the rest of an
  import together (bench/results.md)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Table, bindparam, cast, column, delete, insert, tuple_, update, values
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plexus.errors import Conflict
from plexus.ids import new_id
from plexus.outbox import event_body, record_events
from services.contacts.logic.addresses import KnownAddresses
from services.contacts.logic.conflicts import IDENTIFIER_COLUMNS, TAKEN, conflict
from services.contacts.logic.contact_rows import (
    CONTACTS,
    SUBSCRIPTIONS,
    ContactRow,
    NewSubscription,
)
from services.contacts.logic.events import emit
from services.contacts.models import (
    BlacklistEntry,
    Contact,
    Outbox,
    Subscription,
    SubscriptionChange,
    SuppressedAddress,
)

LEDGER = SubscriptionChange.__table__
ENTRIES = BlacklistEntry.__table__
SUPPRESSED = SuppressedAddress.__table__


class SessionWriter:
    def __init__(self, session: Session):
        self.session = session
        self.known = KnownAddresses(session)

    def new_contact(self, **columns) -> Contact:
        # Empty collections given, not left to load: the new contact has none of these yet.
        return Contact(
            **columns,
            subscriptions=[],
            channel_addresses=[],
            webpush_subscriptions=[],
            app_push_tokens=[],
        )

    def add_contact(self, contact: Contact) -> None:
        self.session.add(contact)

    def changed(self, contact: Contact, columns) -> None:
        """The session tracks what changes on its objects."""

    def new_subscription(self, contact: Contact, channel: str) -> Subscription:
        row = Subscription(channel=channel)
        contact.subscriptions.append(row)
        return row

    def ledger(self, **columns) -> None:
        self.session.add(SubscriptionChange(**columns))

    def add_entry(self, **columns) -> None:
        entry = BlacklistEntry(**columns)
        self.session.add(entry)
        self.known.listed(entry)

    def forget_suppressed(self, row: SuppressedAddress) -> None:
        self.session.delete(row)
        self.known.forgotten(row)

    def event(self, name: str, actor: str, **payload) -> dict:
        return emit(self.session, name, actor, **payload)


class BatchWriter:
    def __init__(self, known: KnownAddresses):
        # The black-list entries and suppression records of every address of the batch
        # (and of the contacts it matched), loaded beforehand.
        self.known = known
        self.entries: list[dict] = []
        self.forgotten: list[tuple[str, str]] = []
        self.new_contacts: list[ContactRow] = []
        self.new_ids: set[str] = set()
        # Stored contacts and the columns changed on them; written as they are at the end.
        self.changed_columns: dict[ContactRow, set[str]] = {}
        self.subscriptions: list[NewSubscription] = []
        self.ledger_rows: list[dict] = []
        self.events: list[dict] = []

    def new_contact(self, **columns) -> ContactRow:
        return ContactRow(**columns)

    def add_contact(self, contact: ContactRow) -> None:
        self.new_contacts.append(contact)
        self.new_ids.add(contact.id)

    def changed(self, contact: ContactRow, columns) -> None:
        # A contact this batch creates is inserted as it is at the end.
        if contact.id not in self.new_ids:
            self.changed_columns.setdefault(contact, set()).update(columns)

    def new_subscription(self, contact: ContactRow, channel: str) -> NewSubscription:
        row = NewSubscription(contact_id=contact.id, channel=channel)
        contact.subscriptions.append(row)
        self.subscriptions.append(row)
        return row

    def ledger(self, **columns) -> None:
        self.ledger_rows.append({"id": new_id(), **columns})

    def add_entry(self, **columns) -> None:
        self.entries.append(columns)
        self.known.listed(BlacklistEntry(**columns))

    def forget_suppressed(self, row: SuppressedAddress) -> None:
        self.forgotten.append((row.kind, row.digest))
        self.known.forgotten(row)

    def event(self, name: str, actor: str, **payload) -> dict:
        body = event_body(name, {**payload, "actor": actor})
        self.events.append(body)
        return body

    def write(self, session: Session) -> None:
        """Everything kept, in a few statements. Stored contacts are updated before new
        ones are inserted (as the ORM orders them), so an identifier one of them gives up
        can go to a new contact. A unique key taken by a writer beside us is a Conflict
        naming the field, as a flush's is."""
        try:
            self._update_stored(session)
            _insert(session, CONTACTS, [c.insert_values() for c in self.new_contacts])
            _insert(session, SUBSCRIPTIONS, [row.columns() for row in self.subscriptions])
            _insert(session, LEDGER, self.ledger_rows)
            _insert(session, ENTRIES, self.entries)
        except IntegrityError as error:
            raise conflict(error, IDENTIFIER_COLUMNS, TAKEN) from None
        if self.forgotten:
            session.execute(
                delete(SUPPRESSED).where(
                    tuple_(SUPPRESSED.c.kind, SUPPRESSED.c.digest).in_(self.forgotten)
                )
            )
        record_events(session, Outbox, self.events)

    def _update_stored(self, session: Session) -> None:
        by_columns = defaultdict(list)
        for contact, columns in self.changed_columns.items():
            by_columns[tuple(sorted(columns))].append(contact)
        dialect = session.get_bind().dialect
        update_rows = _update_from_values if dialect.name == "postgresql" else _update_each
        for columns, contacts in by_columns.items():
            # A contact erased since it was read: start again, item by item (where it is
            # then no longer matched).
            if update_rows(session, columns, contacts) not in (len(contacts), None):
                raise Conflict("another change was made at the same time; try again")


# What the rules take as `writer` (None: a SessionWriter on their session).
Writer = SessionWriter | BatchWriter


def _update_each(session: Session, columns: tuple[str, ...], contacts: list) -> int | None:
    """One UPDATE executed for each contact (SQLite: in process, no round trip); the rows
    it changed, where the driver counts them."""
    statement = (
        update(CONTACTS)
        .where(CONTACTS.c.id == bindparam("key"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )
    parameters = [
        {"key": contact.id, **{f"new_{name}": getattr(contact, name) for name in columns}}
        for contact in contacts
    ]
    result = session.execute(statement, parameters)
    return result.rowcount if session.get_bind().dialect.supports_sane_multi_rowcount else None


def _update_from_values(session: Session, columns: tuple[str, ...], contacts: list) -> int:
    """One UPDATE ... FROM (VALUES ...) for them all (PostgreSQL: one round trip, not one
    a contact); the rows it changed. Each value is cast to its column's type: a VALUES
    column takes its type from its literals (text for JSON, or for a column of NULLs)."""
    changed = values(
        column("key", CONTACTS.c.id.type),
        *(column(name, CONTACTS.c[name].type) for name in columns),
        name="changed",
    ).data([(contact.id, *(getattr(contact, name) for name in columns)) for contact in contacts])
    statement = (
        update(CONTACTS)
        .where(CONTACTS.c.id == changed.c.key)
        .values({name: cast(changed.c[name], CONTACTS.c[name].type) for name in columns})
    )
    return session.execute(statement).rowcount


def _insert(session: Session, table: Table, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(table), rows)
