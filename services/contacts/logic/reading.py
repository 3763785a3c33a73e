"""Contacts as the API shows them, read in one statement: the contact's row with its
collections (subscriptions, channel addresses, web-push subscriptions, app push tokens) aggregated
into JSON columns by correlated subqueries, `json_agg` of `json_build_object` on
PostgreSQL and `json_group_array` of `json_object` on SQLite, and likewise the
black-list entries of its current addresses (email, phone, Viber user id): one subquery
whose OR of three primary-key look-ups both databases run as three index searches (one
subquery a list cost PostgreSQL a third more time a read, mostly in planning).

Reads take no ORM: the ORM loads a contact with its collections in five queries and
spends more time in its identity map and row processing than the database does on
them (bench/results.md). Nor SQLAlchemy's execution: the statement is compiled once per
shape and dialect, and run on the driver's cursor of the connection given, which costs
a third of what `Connection.execute` does with its result processing (about 70 against
200 microseconds a contact on SQLite here); the few conversions it did are in `_row`.
`db` is a Connection (the service's read RPCs: connection_for_reads) or a Session
(tests, or a read inside a write)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from collections.abc import Iterator

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    exc,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import func as sql

from plexus.contract import vocab
from plexus.db import autocommit
from plexus.errors import Unavailable
from services.contacts.logic.representation import APP_PUSH_SHOWN, assemble
from services.contacts.models import (
    AppPushToken,
    BlacklistEntry,
    ChannelAddress,
    Contact,
    Subscription,
    WebpushSubscription,
)

CONTACTS = Contact.__table__
# Each collection: its table, and the columns the resource shows of it.
COLLECTIONS = {
    "subscriptions": (Subscription.__table__, ("channel", "status", "changed_at", "reason")),
    "channel_addresses": (ChannelAddress.__table__, ("channel", "address")),
    "webpush_subscriptions": (WebpushSubscription.__table__, ("id", "device", "endpoint")),
    "app_push_tokens": (AppPushToken.__table__, APP_PUSH_SHOWN),
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


ENTRIES = BlacklistEntry.__table__
ADDRESSES = ChannelAddress.__table__
BLACKLISTS = vocab.BLACKLISTS


def _current_address(list_name: str):
    """The contact's current address of that list, as SQL."""
    if list_name != "viber":
        return CONTACTS.c[list_name]
    # Correlated by hand: two levels down, SQLAlchemy would not find `contacts` itself.
    return (
        select(ADDRESSES.c.address)
        .where(ADDRESSES.c.contact_id == CONTACTS.c.id, ADDRESSES.c.channel == "viber")
        .correlate(CONTACTS)
        .scalar_subquery()
    )


def _blacklisted(dialect: str):
    """The entries of the contact's current addresses, one object each: {"list",
    "since", "reason"}. A contact is black-listed while its address is on the list."""
    pairs = (
        literal_column("'list'"),
        ENTRIES.c.list,
        literal_column("'since'"),
        ENTRIES.c.added_at,
        literal_column("'reason'"),
        ENTRIES.c.reason,
    )
    if dialect == "postgresql":
        rows = sql.json_agg(sql.json_build_object(*pairs))
    else:
        rows = sql.json_group_array(sql.json_object(*pairs))
    found = (
        select(rows)
        .where(
            or_(
                *(
                    and_(
                        ENTRIES.c.list == literal_column(f"'{name}'"),
                        ENTRIES.c.value == _current_address(name),
                    )
                    for name in BLACKLISTS
                )
            )
        )
        .correlate(CONTACTS)
        .scalar_subquery()
    )
    return type_coerce(found, JSON)


@dataclasses.dataclass(frozen=True)
class Filters:
    """What narrows a list of contacts: its status, a channel it is subscribed to now, a
    prefix of its first or last name (any case). None: not filtered on."""

    status: str | None = None
    subscribed: str | None = None
    name: str | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, value in dataclasses.asdict(self).items() if value)

    def params(self) -> dict:
        given = {name: getattr(self, name) for name in self.names()}
        if "name" in given:
            given["name"] = _like_prefix(given["name"].lower())
        return given


NO_FILTERS = Filters()
SUBSCRIPTIONS = Subscription.__table__


def _like_prefix(text: str) -> str:
    r"""A LIKE pattern matching what starts with `text`, its own % _ and \ taken as such."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _filter(name: str):
    """The condition of one filter, on the parameter of its name. Each one has its index
    (models.py): contacts by (status, id), subscriptions by (channel, status), the names
    by their lower case."""
    if name == "status":
        return CONTACTS.c.status == bindparam("status")
    if name == "subscribed":
        return (
            select(SUBSCRIPTIONS.c.contact_id)
            .where(
                SUBSCRIPTIONS.c.contact_id == CONTACTS.c.id,
                SUBSCRIPTIONS.c.channel == bindparam("subscribed"),
                SUBSCRIPTIONS.c.status == literal_column("'subscribed'"),
            )
            .exists()
        )
    prefix = bindparam("name")
    return or_(
        sql.lower(CONTACTS.c.first_name).like(prefix, escape="\\"),
        sql.lower(CONTACTS.c.last_name).like(prefix, escape="\\"),
    )


@functools.cache
def contacts_statement(
    dialect: str,
    equal: tuple[str, ...] = (),
    filters: tuple[str, ...] = (),
    *,
    page: bool = False,
    after: bool = False,
) -> Select:
    """SELECT the contacts whose columns `equal` equal the parameters of those names and
    that pass the `filters` named (Filters); `page`: newest first, `:limit` of them,
    `after`: only ids below `:cursor`.

    Made once per shape and reused: SQLAlchemy remembers a statement's cache key on the
    object, while building one per call would cost walking its subqueries again
    (a fifth of the read's time)."""
    statement = select(
        CONTACTS,
        *(
            _collection(dialect, table, names).label(f"_{part}")
            for part, (table, names) in COLLECTIONS.items()
        ),
        _blacklisted(dialect).label("_blacklists"),
    )
    statement = statement.where(*(CONTACTS.c[name] == bindparam(name) for name in equal))
    statement = statement.where(*(_filter(name) for name in filters))
    if after:
        statement = statement.where(CONTACTS.c.id < bindparam("cursor"))
    if page:
        statement = statement.order_by(CONTACTS.c.id.desc()).limit(bindparam("limit"))
    return statement


# Columns the driver may hand over as JSON text (SQLite does; psycopg2 parses JSON).
JSON_COLUMNS = (
    "address",
    "categories",
    "variables",
    *(f"_{part}" for part in COLLECTIONS),
    "_blacklists",
)


@functools.cache
def _compiled(dialect, shape: tuple) -> tuple[str, tuple[str, ...] | None, dict]:
    """The SQL of a statement shape for the driver; the order of its parameters when
    the driver takes them by position (SQLite), else None (by name: psycopg2); and the
    values of those SQLAlchemy fills in itself (SQLite's OFFSET 0)."""
    equal, filters, page, after = shape
    compiled = contacts_statement(dialect.name, equal, filters, page=page, after=after).compile(
        dialect=dialect
    )
    order = tuple(compiled.positiontup) if dialect.positional else None
    given = {name: None for name in (*equal, *filters, "limit", "cursor")}
    defaults = {
        name: value for name, value in compiled.construct_params(given).items() if name not in given
    }
    return str(compiled), order, defaults


def _driver_connection(db) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def _row(names: list[str], values: tuple) -> dict:
    row = dict(zip(names, values, strict=True))
    for name in JSON_COLUMNS:
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row


def resource(row: dict) -> dict:
    webpush = sorted(row["_webpush_subscriptions"] or (), key=lambda sub: sub["id"])
    return assemble(
        row,
        row["_blacklists"] or (),
        row["_subscriptions"] or (),
        row["_channel_addresses"] or (),
        webpush,
        sorted(row["_app_push_tokens"] or (), key=lambda token: token["id"]),
    )


def _select(
    db,
    equal: tuple[str, ...],
    params: dict,
    filters: Filters = NO_FILTERS,
    *,
    page: bool = False,
    after: bool = False,
) -> list[dict]:
    connection = _driver_connection(db)
    dialect = connection.dialect
    shape = (equal, filters.names(), page, after)
    sql_text, order, defaults = _compiled(_dialect_key(dialect), shape)
    params = {**defaults, **params, **filters.params()}
    arguments = tuple(params[name] for name in order) if order is not None else params
    driver = dialect.loaded_dbapi
    dbapi_connection = connection.connection.dbapi_connection
    cursor = None
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute(sql_text, arguments)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    except (driver.OperationalError, driver.InterfaceError) as error:
        if dialect.is_disconnect(error, dbapi_connection, cursor):
            # What SQLAlchemy does when it meets a lost connection, which it does not see
            # here: this one is not given out again, nor any pooled before it.
            connection.invalidate(error)
            connection.engine.dispose(close=False)
        raise Unavailable("the database did not answer") from error
    finally:
        if cursor is not None:
            with contextlib.suppress(driver.Error):
                cursor.close()
    return [resource(_row(names, values)) for values in rows]


_DIALECTS: dict = {}


def _dialect_key(dialect):
    """One dialect object per driver and parameter style: the compiled SQL is the same
    for every engine of it (tests make many engines)."""
    return _DIALECTS.setdefault((dialect.name, dialect.driver, dialect.paramstyle), dialect)


def contacts_where(db, filters: Filters = NO_FILTERS, **equal) -> list[dict]:
    """The resources of the contacts whose columns equal the values given (all of them)
    and that pass the filters."""
    return _select(db, tuple(sorted(equal)), equal, filters)


def contacts_among(db, ids: list[str]) -> list[dict]:
    """The resources of the contacts of those ids that exist, in one statement (a
    campaign batch's): through SQLAlchemy's execution, as the number of ids varies."""
    if not ids:
        return []
    connection = _driver_connection(db)
    statement = contacts_statement(connection.dialect.name).where(CONTACTS.c.id.in_(ids))
    result = connection.execute(statement)
    names = list(result.keys())
    return [resource(_row(names, tuple(values))) for values in result]


def contacts_page(db, limit: int, cursor: str | None, filters: Filters = NO_FILTERS) -> list[dict]:
    """Up to `limit` contacts passing the filters, newest first, after the `cursor` id
    when given."""
    return _select(
        db, (), {"limit": limit, "cursor": cursor}, filters, page=True, after=cursor is not None
    )


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
