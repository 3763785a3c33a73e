"""Storage: one engine per service, and a nameko dependency that hands each worker a
transaction. SQLite files are the embedded default; PostgreSQL (psycopg2, which
eventlet's monkey patching makes green) when configured, one schema per service."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import eventlet
import nameko
from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, String, create_engine, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from plexus import config as plexus_config
from plexus import planner_stats
from plexus.errors import Unavailable
from plexus.sqlite_writer import make_sqlite_engine

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Each service subclasses this once, so each has a metadata of its own."""

    __abstract__ = True


class Authored:
    """Who made a definition and who changed it last: the actor of the write (the API
    key's name, `cli`, `system`), the audit trail of account-wide definitions (variables,
    sources, categories, templates, segments)."""

    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str | None] = mapped_column(String(200))

    def authorship(self) -> dict:
        return {"created_by": self.created_by, "updated_by": self.updated_by}


# Fixed constraint names: the same on SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """The metadata of one service's Base: `metadata = service_metadata()`."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, schema: str | None = None) -> Engine:
    if url.startswith("sqlite"):
        # One writer per database per process: plexus.sqlite_writer says why.
        return make_sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    connect_args: dict[str, object] = {"connect_timeout": 5}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    # No pre-ping: it costs a round trip on every checkout. A connection found dead on use
    # fails that one transaction (503, rolled back) and SQLAlchemy then discards every
    # pooled connection made before it, so the next one connects afresh.
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=10,
        max_overflow=10,
        pool_timeout=5,
    )


def service_engine(config: dict, service: str) -> Engine:
    url, schema = plexus_config.database_url(config, service)
    return make_engine(url, schema)


def ensure_schema(engine: Engine, schema: str | None) -> None:
    if schema:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


@contextlib.contextmanager
def transaction(session_factory: sessionmaker, on_events=None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. A database that is
    away becomes Unavailable (503 at the gateway), with nothing half-written.
    `on_events` is called after a commit that recorded outbox events.

    On SQLite its first write waits for the process's writer lock, held to the commit
    (plexus.sqlite_writer); a transaction that only reads never waits."""
    session = session_factory()
    try:
        with _unavailable_when_away(), session.begin():
            yield session
        if on_events is not None and session.info.pop("outbox_dirty", False):
            on_events()
    finally:
        session.close()


@contextlib.contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements each commit on their own: no BEGIN and COMMIT round
    trips, and row locks held for one statement. For reads and single-statement writes
    on the hot path of every request (the gateway's key check and rate limit). On
    SQLite a statement that writes waits for the process's writer lock, alone."""
    with (
        _unavailable_when_away(),
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
    ):
        yield connection


@contextlib.contextmanager
def _unavailable_when_away() -> Iterator[None]:
    """A database that is away becomes Unavailable (503 at the gateway)."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        if isinstance(error, exc.OperationalError) and "database is locked" not in str(error):
            log.warning("database unavailable: %s", type(error).__name__)
        raise Unavailable("the database did not answer; nothing was changed") from error


class Database(DependencyProvider):
    """Gives a worker `self.db.transaction()`. Engines are made once per container.
    `session_info(config)`: what every session carries in its `info` (a service's
    settings its logic reads from the session it is given)."""

    def __init__(self, service: str, session_info=None):
        self.service = service
        self.session_info = session_info
        self.engine: Engine | None = None
        self.commit_listeners: list = []

    session_factory: sessionmaker  # made in setup(), once the config is known

    def setup(self) -> None:
        self.engine = service_engine(nameko.config, self.service)
        info = self.session_info(nameko.config) if self.session_info else None
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False, info=info)
        _watch_pool(self.service, self.engine)

    def start(self) -> None:
        interval = nameko.config.get("PLANNER_STATS_SECONDS", planner_stats.INTERVAL_SECONDS)
        self.stats_interval = float(interval or 0)
        engine = self.engine
        if engine is not None and self.stats_interval > 0 and engine.dialect.name == "postgresql":
            self.container.spawn_managed_thread(
                lambda: self._keep_stats(engine), identifier="planner-stats"
            )

    def _keep_stats(self, engine: Engine) -> None:
        """plexus.planner_stats, every few seconds while the service runs."""
        while True:
            eventlet.sleep(self.stats_interval)
            try:
                planner_stats.analyze_stale(engine)
            except exc.SQLAlchemyError as error:  # the database away: next time
                log.warning("planner statistics not refreshed: %s", type(error).__name__)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def get_dependency(self, _worker_ctx) -> DatabaseAccess:
        return DatabaseAccess(self.session_factory, self._events_committed)

    def _events_committed(self) -> None:
        for listener in self.commit_listeners:
            listener()


def _watch_pool(service: str, engine: Engine) -> None:
    """Pool use, read at scrape time: a pool that stays full explains slow answers."""
    from plexus.metrics import service_gauge  # metrics imports nothing of ours; keep db light

    pool = engine.pool
    if not hasattr(pool, "checkedout"):
        return
    connections = service_gauge(
        service,
        "plexus_db_pool_connections",
        "Database connections of this process, by state; `limit`: the most it may open.",
        ["state"],
    )
    connections.labels("in_use").set_function(pool.checkedout)
    connections.labels("idle").set_function(pool.checkedin)  # type: ignore[attr-defined]
    overflow = getattr(pool, "_max_overflow", -1)
    if overflow >= 0:  # a pool without a bound has no saturation to watch
        connections.labels("limit").set(pool.size() + overflow)  # type: ignore[attr-defined]


class DatabaseAccess:
    def __init__(self, session_factory: sessionmaker, on_events=None):
        self.session_factory = session_factory
        self.on_events = on_events

    def transaction(self):
        return transaction(self.session_factory, self.on_events)

    def run(self, logic, *args, **kwargs):
        """One logic function in a transaction of its own: what an entrypoint does."""
        with self.transaction() as session:
            return logic(session, *args, **kwargs)
