"""Contacts as the API shows them, read in one statement: the contact's row with its
four collections (black lists, subscriptions, channel addresses, web-push
subscriptions) aggregated into JSON columns by correlated subqueries, `json_agg` of
`json_build_object` on PostgreSQL and `json_group_array` of `json_object` on SQLite.

Reads take no ORM: the ORM loads a contact with its collections in five queries and
spends more time in its identity map and row processing than the database does on
them (bench/results.md). `db` is anything that executes statements: a Connection in
autocommit (the service's read RPCs) or a Session (tests, or a read inside a write)."""

from __future__ import annotations

from sqlalchemy import JSON, Select, literal_column, select, type_coerce
from sqlalchemy import func as sql

from services.contacts.logic.representation import assemble
from services.contacts.models import (
    Blacklist,
    ChannelAddress,
    Contact,
    Subscription,
    WebpushSubscription,
)

CONTACTS = Contact.__table__
# Each collection: its table, and the columns the resource shows of it.
COLLECTIONS = {
    "blacklists": (Blacklist.__table__, ("list", "since", "reason")),
    "subscriptions": (Subscription.__table__, ("channel", "status", "changed_at", "reason")),
    "channel_addresses": (ChannelAddress.__table__, ("channel", "address")),
    "webpush_subscriptions": (WebpushSubscription.__table__, ("id", "device", "endpoint")),
}
_STATEMENTS: dict[str, Select] = {}


def _collection(dialect: str, table, names: tuple[str, ...]):
    """A JSON array of the contact's rows of `table`, one object each (empty: [] on
    SQLite, NULL on PostgreSQL)."""
    pairs = [part for name in names for part in (literal_column(f"'{name}'"), table.c[name])]
    if dialect == "postgresql":
        rows = sql.json_agg(sql.json_build_object(*pairs))
    else:
        rows = sql.json_group_array(sql.json_object(*pairs))
    found = select(rows).where(table.c.contact_id == CONTACTS.c.id).scalar_subquery()
    return type_coerce(found, JSON)


def contacts_statement(dialect: str) -> Select:
    """SELECT the contact columns and its collections; add WHERE, ORDER BY, LIMIT."""
    if dialect not in _STATEMENTS:
        _STATEMENTS[dialect] = select(
            CONTACTS, *(_collection(dialect, table, names).label(f"_{part}")
                        for part, (table, names) in COLLECTIONS.items()))
    return _STATEMENTS[dialect]


def dialect_of(db) -> str:
    bind = db if hasattr(db, "dialect") else db.get_bind()
    return bind.dialect.name


def resource(row) -> dict:
    columns = row._mapping
    webpush = sorted(columns["_webpush_subscriptions"] or (), key=lambda sub: sub["id"])
    return assemble(columns, columns["_blacklists"] or (), columns["_subscriptions"] or (),
                    columns["_channel_addresses"] or (), webpush)


def contacts_where(db, *conditions, order_newest_first: bool = False,
                   limit: int | None = None) -> list[dict]:
    """The resources of the contacts meeting every condition on the contacts table."""
    statement = contacts_statement(dialect_of(db)).where(*conditions)
    if order_newest_first:
        statement = statement.order_by(CONTACTS.c.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return [resource(row) for row in db.execute(statement)]
