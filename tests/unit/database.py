"""Helpers for logic tests on a real SQLite file: a service's tables made from its
models, and each logic call in a transaction of its own, as the service runs it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine, transaction


def sqlite_sessions(path: Path, base) -> sessionmaker:
    """A session factory on a new SQLite file holding every table of `base`."""
    engine = make_engine(f"sqlite:///{path}")
    base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def runner(sessions: sessionmaker):
    """run(logic_function, *args): the function in a transaction of its own."""
    def run(logic, *args, **kwargs):
        with transaction(sessions) as session:
            return logic(session, *args, **kwargs)
    return run
