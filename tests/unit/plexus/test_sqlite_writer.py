"""One writer per SQLite database per process: green threads that write queue on a green
lock instead of waiting inside SQLite (which blocks every green thread of the process,
the lock's holder included), and readers never wait. Real files, real green threads."""

import subprocess
import sys
import time

import eventlet
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from plexus.db import autocommit, make_engine, transaction
from plexus.errors import Unavailable
from plexus.sqlite_writer import writer_lock, writes


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("CREATE TABLE outbox (id INTEGER PRIMARY KEY, n INTEGER)"))
    yield engine
    engine.dispose()


def count(engine, table: str) -> int:
    with transaction(sessionmaker(engine)) as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_writers_waiting_on_the_network_mid_transaction_do_not_lock_each_other_out(engine):
    """Batches, single writes in autocommit, and a relay that publishes between reading
    its rows and deleting them, all at once in one process: each finishes, none fails
    `database is locked` (before: the first writer to wait blocked the process for the
    busy timeout, 30 s, then failed)."""
    sessions = sessionmaker(engine)

    def batch(i: int) -> None:
        with transaction(sessions) as session:
            session.execute(
                text("INSERT INTO items (n) VALUES (:n)"), [{"n": i * 100 + k} for k in range(100)]
            )
            session.execute(text("INSERT INTO outbox (n) VALUES (:n)"), {"n": i})
            eventlet.sleep(0.005)  # I/O after the first write: an RPC, a broker round trip

    def single(i: int) -> None:
        with autocommit(engine) as connection:
            connection.execute(text("INSERT INTO items (n) VALUES (:n)"), {"n": -i})

    def relay() -> None:
        with transaction(sessions) as session:
            rows = session.execute(text("SELECT id FROM outbox ORDER BY id")).all()
            eventlet.sleep(0.005)  # publishing them
            session.execute(
                text("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(:ids))"),
                {"ids": str([r.id for r in rows])},
            )

    started = time.monotonic()
    pool = eventlet.GreenPool(60)
    for i in range(60):
        pool.spawn(batch, i)
        pool.spawn(single, i)
        pool.spawn(relay)
    pool.waitall()  # re-raises nothing: a failed green thread would only log
    relay()

    assert count(engine, "items") == 60 * 100 + 60
    assert count(engine, "outbox") == 0
    assert time.monotonic() - started < 10


def test_every_writer_finishes_without_an_error(engine):
    sessions = sessionmaker(engine)
    errors = []

    def write(i: int) -> None:
        try:
            with transaction(sessions) as session:
                session.execute(text("INSERT INTO items (n) VALUES (:n)"), {"n": i})
                eventlet.sleep(0.002)
        except Exception as error:  # noqa: BLE001 (collected and asserted on)
            errors.append(error)

    pool = eventlet.GreenPool(40)
    for i in range(200):
        pool.spawn(write, i)
    pool.waitall()
    assert errors == []
    assert count(engine, "items") == 200


def test_readers_do_not_wait_for_the_writer(engine):
    sessions = sessionmaker(engine)
    with autocommit(engine) as connection:
        connection.execute(text("INSERT INTO items (n) VALUES (1)"))

    def long_write() -> None:
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO items (n) VALUES (2)"))
            eventlet.sleep(1.0)

    writer = eventlet.spawn(long_write)
    eventlet.sleep(0.05)  # the writer holds the lock now
    started = time.monotonic()
    with transaction(sessions) as session:
        seen = session.execute(text("SELECT count(*) FROM items")).scalar()
    with autocommit(engine) as connection:
        connection.execute(text("SELECT count(*) FROM items")).scalar()
    assert time.monotonic() - started < 0.5
    assert seen == 1  # the writer's row is not committed yet
    writer.wait()
    assert count(engine, "items") == 2


def test_an_autocommit_write_returning_rows_gives_them_all(engine):
    with autocommit(engine) as connection:
        connection.execute(text("INSERT INTO items (n) VALUES (1), (2), (3)"))
        rows = connection.execute(text("UPDATE items SET n = n * 10 RETURNING n")).all()
        first = connection.execute(text("UPDATE items SET n = n + 1 RETURNING n")).first()
    assert sorted(n for (n,) in rows) == [10, 20, 30]
    assert first[0] in (11, 21, 31)
    # The lock went with the statement: a transaction can write at once.
    with transaction(sessionmaker(engine)) as session:
        session.execute(text("DELETE FROM items"))


def test_a_write_on_a_second_connection_by_the_lock_holder_fails_at_once(engine):
    """It would wait for itself: before, that froze the process for 30 s."""
    sessions = sessionmaker(engine)
    started = time.monotonic()
    with pytest.raises(Unavailable), transaction(sessions) as outer:
        outer.execute(text("INSERT INTO items (n) VALUES (1)"))
        with transaction(sessions) as inner:
            assert inner.execute(text("SELECT count(*) FROM items")).scalar() == 0
            inner.execute(text("INSERT INTO items (n) VALUES (2)"))
    assert time.monotonic() - started < 2
    assert count(engine, "items") == 0
    with transaction(sessions) as session:  # nothing is left holding the lock
        session.execute(text("INSERT INTO items (n) VALUES (3)"))


def test_waiting_for_a_writer_in_another_process_keeps_this_process_running(engine, tmp_path):
    """SQLite's busy wait would stop every green thread here until the other process
    commits; between tries of BEGIN IMMEDIATE they keep running (heartbeats, reads)."""
    ready = tmp_path / "holding"
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import pathlib, sqlite3, time\n"
                f"db = sqlite3.connect({engine.url.database!r}, isolation_level=None)\n"
                "db.execute('BEGIN IMMEDIATE')\n"
                "db.execute('INSERT INTO items (n) VALUES (0)')\n"
                f"pathlib.Path({str(ready)!r}).touch()\n"
                "time.sleep(1.5)\n"
                "db.execute('COMMIT')\n"
            ),
        ]
    )
    try:
        while not ready.exists():
            assert other.poll() is None, "the other process ended early"
            time.sleep(0.02)
        ticks = []

        def tick() -> None:
            while True:
                ticks.append(time.monotonic())
                eventlet.sleep(0.01)

        ticker = eventlet.spawn(tick)
        started = time.monotonic()
        with transaction(sessionmaker(engine)) as session:
            session.execute(text("INSERT INTO items (n) VALUES (1)"))
        with autocommit(engine) as connection:
            connection.execute(text("INSERT INTO items (n) VALUES (2)"))
        waited = time.monotonic() - started
        ticker.kill()
    finally:
        other.wait(timeout=10)
    assert waited > 0.8  # it did wait for the other process's commit
    assert len(ticks) > waited / 0.01 / 3  # and this process kept running meanwhile
    assert count(engine, "items") == 3


def test_one_lock_per_database_file(tmp_path):
    one = writer_lock(str(tmp_path / "a.db"))
    assert writer_lock(str(tmp_path / "." / "a.db")) is one
    assert writer_lock(str(tmp_path / "b.db")) is not one


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", False),
        ("  select * from t", False),
        ("PRAGMA table_info(t)", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("COMMIT", False),
        ("INSERT INTO t VALUES (1)", True),
        ("update t set n = 1", True),
        ("DELETE FROM t", True),
        ("CREATE TABLE t (n)", True),
        ("SAVEPOINT sa_1", True),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", True),
        ("-- a comment\nINSERT INTO t VALUES (1)", True),
    ],
)
def test_which_statements_need_the_writer(sql, expected):
    assert writes(sql) is expected
