"""Helpers for logic tests on a real SQLite file: a service's tables made from its
models, and each logic call in a transaction of its own, as the service runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine, transaction
from plexus.migrations import migrate_service
from services.contacts.logic.addresses import SUPPRESSION_KEY

# What the contacts service's sessions carry: its suppression secret (its settings.py).
CONTACTS_SESSION_INFO = {SUPPRESSION_KEY: b"test-suppression-secret"}


def sqlite_sessions(path: Path, base) -> sessionmaker:
    """A session factory on a new SQLite file holding every table of `base`."""
    engine = make_engine(f"sqlite:///{path}")
    base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def migrated_sessions(service: str, database_url: str) -> Iterator[sessionmaker]:
    """Sessions on a database as `plexus migrate` makes it for `service` (a fixture body:
    `yield from migrated_sessions(...)`)."""
    migrate_service({"DATABASE_URLS": {service: database_url}}, service)
    engine = make_engine(database_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def runner(sessions: sessionmaker):
    """run(logic_function, *args): the function in a transaction of its own."""

    def run(logic, *args, **kwargs):
        with transaction(sessions) as session:
            return logic(session, *args, **kwargs)

    return run
