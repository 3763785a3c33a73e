"""SQLite with one writer per database per process.

SQLite lets one connection write at a time, and the sqlite3 module waits for that lock
inside C (the busy timeout). Under eventlet that wait blocks the whole process, so the
green thread that holds the lock cannot reach its COMMIT while another green thread of
the same process waits for it: after the timeout the waiter fails `database is locked`
(seen as a 503 on a 1,000-item batch while the suite was busy).

So the writers of a process queue on a green lock per database file, and SQLite's own
write lock is only ever asked for by the green thread holding ours. WriterConnection is
the driver's own transaction handling (a transaction begins at its first write; what it
reads before that, it reads as single statements) with the lock added:
- the first write of a transaction takes the lock and begins with BEGIN IMMEDIATE; the
  lock is held until COMMIT or ROLLBACK;
- a statement that writes on an AUTOCOMMIT connection takes the lock for that statement
  alone, in a BEGIN IMMEDIATE ... COMMIT of its own;
- reads take no lock, in or out of a transaction: on WAL they never wait for the writer.
  A transaction that only reads never queues.
A green thread that holds the lock and writes on a second connection to the same file
would wait for itself: it fails at once instead of blocking the process.
A writer in another process (a second process of the service, the CLI, a test) is
waited for by green sleeps between tries of BEGIN IMMEDIATE, not by SQLite's busy wait.

Hold the lock briefly: a transaction that waits on the network after its first write
(a broker round trip, an RPC) makes every other writer of its process wait as long.

The lock is made when the first engine on a file is, from `threading.Lock`: a green lock
once eventlet has monkey-patched (nameko run does so first), a real one otherwise."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from plexus.private_files import create_private

# Seconds a writer waits for the writer lock of its process, then for a writer in another
# process, before it gives up (503 at the gateway); SQLite's busy timeout for the rest.
WAIT_SECONDS = 30.0

_READ_WORDS = {"SELECT", "VALUES", "EXPLAIN", "PRAGMA"}
_END_WORDS = {"BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE"}
_WRITE_IN_WITH = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*(\w+)", re.DOTALL)


class WriterLock:
    """The writer of one database in this process, and which thread (green or not) it is."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self.owner: int | None = None

    def held_here(self) -> bool:
        return self.owner == threading.get_ident()

    def acquire(self, timeout: float = WAIT_SECONDS) -> None:
        if self.held_here():
            raise sqlite3.OperationalError(
                f"database is locked: this thread is already writing to {self.name} on "
                "another connection"
            )
        if not self._lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError(
                f"database is locked: waited {timeout:g} s for this process's writer of {self.name}"
            )
        self.owner = threading.get_ident()

    def release(self) -> None:
        self.owner = None
        self._lock.release()


_locks: dict[str, WriterLock] = {}


def writer_lock(database: str) -> WriterLock:
    """The one lock of this process for a database file (by its real path)."""
    if database in ("", ":memory:"):
        return WriterLock(":memory:")  # a memory database is private to its connection
    key = os.path.realpath(database)
    return _locks.setdefault(key, WriterLock(key))


def writes(sql: str) -> bool:
    """Whether a statement, with no transaction open, needs SQLite's write lock (or opens
    a transaction that may write: SAVEPOINT). When unsure, yes: a needless wait is
    harmless, a missed one blocks the process."""
    match = _FIRST_WORD.match(sql)
    word = match.group(1).upper() if match else ""
    if word in _READ_WORDS or word in _END_WORDS:
        return False
    if word == "WITH":
        return bool(_WRITE_IN_WITH.search(sql))
    return True


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection that begins its transactions itself, under its database's
    writer lock (see the module's docstring)."""

    writer: WriterLock | None = None  # set once the connection is set up
    holding = False
    _autocommit = False

    def __init__(self, *args, **kwargs):
        kwargs["isolation_level"] = None  # the driver never begins on its own: we do
        kwargs.setdefault("timeout", WAIT_SECONDS)
        super().__init__(*args, **kwargs)

    # What SQLAlchemy sets to choose AUTOCOMMIT (None) or transactions (""), as it would
    # on a plain sqlite3 connection; here it only chooses what `statement()` does.
    @property  # type: ignore[override]  # sqlite3 types it as its literal levels
    def isolation_level(self) -> str | None:
        return None if self._autocommit else ""

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._autocommit = value is None

    def cursor(self, factory=None):
        return super().cursor(factory or WriterCursor)

    @contextlib.contextmanager
    def statement(self, sql: str) -> Iterator[bool]:
        """Around one statement. A write with no transaction open takes the writer lock:
        in a transaction it begins one (BEGIN IMMEDIATE), the lock held until it ends; in
        autocommit for this statement alone. Yields whether the lock goes right after
        the statement, so the cursor reads its rows first (SQLite holds its write lock
        until a statement's rows are all read)."""
        if self.writer is None or self.in_transaction or not writes(sql):
            yield False
            return
        self.writer.acquire()
        try:
            self._begin_immediate()
        except BaseException:
            self.writer.release()
            raise
        if not self._autocommit:
            self.holding = True  # until commit() or rollback()
            yield False
            return
        try:  # this statement alone, in a transaction of its own
            yield True
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._run("ROLLBACK")
            raise
        finally:
            self.writer.release()

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE. A writer in another process is waited for by green sleeps:
        SQLite's own busy wait would stop every green thread of this one meanwhile."""
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.001
        self._run("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self._run("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if not _busy(error) or time.monotonic() >= deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        finally:
            self._run(f"PRAGMA busy_timeout = {int(WAIT_SECONDS * 1000)}")

    def _run(self, sql: str) -> None:
        sqlite3.Connection.cursor(self).execute(sql).close()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end()

    def close(self) -> None:
        try:
            super().close()  # rolls back what is open
        finally:
            self._end()

    def _end(self) -> None:
        if self.holding and self.writer is not None:
            self.holding = False
            self.writer.release()


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_BUSY if code is not None else "locked" in str(error)


class WriterCursor(sqlite3.Cursor):
    """Runs each statement inside its connection's `statement()`; the rows of an
    autocommit write (UPDATE ... RETURNING) are read before the lock goes."""

    _buffered: list | None = None

    def execute(self, sql, parameters=()):
        self._buffered = None
        with self.connection.statement(sql) as release_after:
            super().execute(sql, parameters)
            if release_after and self.description is not None:
                self._buffered = super().fetchall()
        return self

    def executemany(self, sql, seq_of_parameters):
        self._buffered = None
        with self.connection.statement(sql):
            super().executemany(sql, seq_of_parameters)
        return self

    def fetchone(self):
        if self._buffered is None:
            return super().fetchone()
        return self._buffered.pop(0) if self._buffered else None

    def fetchmany(self, size=None):
        count = self.arraysize if size is None else size
        if self._buffered is None:
            return super().fetchmany(count)
        rows, self._buffered = self._buffered[:count], self._buffered[count:]
        return rows

    def fetchall(self):
        if self._buffered is None:
            return super().fetchall()
        rows, self._buffered = self._buffered, []
        return rows

    def __iter__(self):
        return self

    def __next__(self):
        if self._buffered is None:
            return super().__next__()
        if not self._buffered:
            raise StopIteration
        return self._buffered.pop(0)


def make_sqlite_engine(url: str) -> Engine:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        # Owner-only: the file holds contacts' data. SQLite gives its -wal and -shm
        # files the database file's permissions.
        create_private(path)
    engine = create_engine(url, connect_args={"factory": WriterConnection, "timeout": WAIT_SECONDS})
    lock = writer_lock(path)

    @event.listens_for(engine, "connect")
    def set_up(dbapi_connection: WriterConnection, _record) -> None:
        _pragmas(dbapi_connection)
        dbapi_connection.writer = lock

    return engine


def _pragmas(dbapi_connection: sqlite3.Connection) -> None:
    # WAL lets readers (other green threads, the CLI, tests) work beside the writer.
    cursor = sqlite3.Connection.cursor(dbapi_connection)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
