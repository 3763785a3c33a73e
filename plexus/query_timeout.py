"""A time limit on the SQL a block runs in a transaction: a query a caller made costly
(a segment rule over every contact) stops instead of holding a worker, and a database
connection, for as long as it likes.

PostgreSQL: `SET LOCAL statement_timeout`, so each statement of the block stops after
`seconds` (the server cancels it; the transaction is then unusable and rolls back).
SQLite: a progress handler that interrupts whatever statement is running once `seconds`
have passed since the block began; under eventlet this is also the only way a long
SQLite query gives the process back, since it runs inside C."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from sqlalchemy import exc, text
from sqlalchemy.orm import Session

# SQLite virtual-machine steps between two looks at the clock: about a millisecond.
SQLITE_STEPS = 10_000


class QueryTimedOut(Exception):
    """The block's SQL ran past its time limit; nothing it did is kept."""

    def __init__(self, seconds: float):
        super().__init__(f"the query ran longer than {seconds:g} s and was stopped")
        self.seconds = seconds


@contextlib.contextmanager
def query_timeout(session: Session, seconds: float | None) -> Iterator[None]:
    """Run the block's SQL under a time limit; QueryTimedOut when it is passed. None or
    0: no limit."""
    if not seconds:
        yield
        return
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        with _postgresql(connection, seconds):
            yield
    elif dialect == "sqlite":
        with _sqlite(connection, seconds):
            yield
    else:
        yield


@contextlib.contextmanager
def _postgresql(connection, seconds: float) -> Iterator[None]:
    before = connection.execute(text("SELECT current_setting('statement_timeout')")).scalar()
    connection.execute(
        text("SELECT set_config('statement_timeout', :limit, true)"),
        {"limit": f"{max(1, int(seconds * 1000))}ms"},
    )
    try:
        yield
    except exc.OperationalError as error:
        if getattr(error.orig, "pgcode", None) == "57014":  # query_canceled
            raise QueryTimedOut(seconds) from error
        raise
    # Back to what it was, for the rest of the transaction (after a timeout there is no
    # rest: the transaction is aborted).
    connection.execute(
        text("SELECT set_config('statement_timeout', :limit, true)"), {"limit": before}
    )


@contextlib.contextmanager
def _sqlite(connection, seconds: float) -> Iterator[None]:
    raw = connection.connection.dbapi_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: time.monotonic() > deadline, SQLITE_STEPS)
    try:
        yield
    except exc.OperationalError as error:
        if "interrupted" in str(error.orig):
            raise QueryTimedOut(seconds) from error
        raise
    finally:
        raw.set_progress_handler(None, 0)
