"""Contacts as the API shows them, read in one statement: the contact's row with its
four collections (black lists, subscriptions, channel addresses, web-push
subscriptions) aggregated into JSON columns by correlated subqueries, `json_agg` of
`json_build_object` on PostgreSQL and `json_group_array` of `json_object` on SQLite.

Reads take no ORM: the ORM loads a contact with its collections in five queries and
spends more time in its identity map and row processing than the database does on
them (bench/results.md). `db` is anything that executes statements: a Connection in
autocommit (the service's read RPCs) or a Session (tests, or a read inside a write)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Select,
    bindparam,
    exc,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy import func as sql

from plexus.db import autocommit
from plexus.errors import Unavailable
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


@functools.cache
def contacts_statement(dialect: str, equal: tuple[str, ...] = (), *,
                       page: bool = False, after: bool = False) -> Select:
    """SELECT the contacts whose columns `equal` equal the parameters of those names;
    `page`: newest first, `:limit` of them, `after`: only ids below `:cursor`.

    Made once per shape and reused: SQLAlchemy remembers a statement's cache key on the
    object, while building one per call would cost walking its four subqueries again
    (a fifth of the read's time)."""
    statement = select(
        CONTACTS, *(_collection(dialect, table, names).label(f"_{part}")
                    for part, (table, names) in COLLECTIONS.items()))
    statement = statement.where(*(CONTACTS.c[name] == bindparam(name) for name in equal))
    if after:
        statement = statement.where(CONTACTS.c.id < bindparam("cursor"))
    if page:
        statement = statement.order_by(CONTACTS.c.id.desc()).limit(bindparam("limit"))
    return statement


def dialect_of(db) -> str:
    bind = db if hasattr(db, "dialect") else db.get_bind()
    return bind.dialect.name


def resource(row) -> dict:
    columns = row._mapping
    webpush = sorted(columns["_webpush_subscriptions"] or (), key=lambda sub: sub["id"])
    return assemble(columns, columns["_blacklists"] or (), columns["_subscriptions"] or (),
                    columns["_channel_addresses"] or (), webpush)


def contacts_where(db, **equal) -> list[dict]:
    """The resources of the contacts whose columns equal the values given (all of them)."""
    statement = contacts_statement(dialect_of(db), tuple(sorted(equal)))
    return [resource(row) for row in db.execute(statement, equal)]


def contacts_page(db, limit: int, cursor: str | None) -> list[dict]:
    """Up to `limit` contacts, newest first, after the `cursor` id when given."""
    statement = contacts_statement(dialect_of(db), page=True, after=cursor is not None)
    return [resource(row) for row in db.execute(statement, {"limit": limit, "cursor": cursor})]


@contextlib.contextmanager
def connection_for_reads(engine: Engine) -> Iterator[Connection]:
    """A connection for one-statement reads. PostgreSQL: in autocommit, which spares the
    BEGIN and ROLLBACK round trips. SQLite: as it comes, as its driver begins no
    transaction for a SELECT, while switching it to autocommit and back costs a PRAGMA."""
    if engine.dialect.name != "sqlite":
        with autocommit(engine) as connection:
            yield connection
        return
    try:
        with engine.connect() as connection:
            yield connection
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise Unavailable("the database did not answer") from error
