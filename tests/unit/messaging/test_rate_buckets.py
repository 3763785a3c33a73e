"""The senders' shared rate limit (logic/rate_buckets.py) on SQLite and PostgreSQL
databases as `plexus migrate` makes them: a burst of one second's worth, then one slot
an interval; idle time earns no more than the burst; callers racing through two engines
(as two messaging processes would) each get a slot of their own, never more than the
limit."""

import eventlet
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine
from services.messaging.logic.rate_buckets import reserve
from tests.unit.database import migrated_sessions, runner

NOW = 1_800_000_000.0  # seconds since the epoch: 2027


@pytest.fixture
def sessions(database_url):
    yield from migrated_sessions("messaging", database_url)


@pytest.fixture
def run(sessions):
    return runner(sessions)


def steps(interval: float, count: int, zeros: int = 0):
    """`zeros` sends at once, then `count` one interval apart; to the 10 µs (doubles hold
    epoch seconds to about 0.2 µs, and each slot adds its rounding)."""
    return pytest.approx([0.0] * zeros + [interval * n for n in range(1, count + 1)], abs=1e-5)


def test_a_burst_of_one_second_then_one_send_an_interval(run):
    waits = [run(reserve, "sms", 10, NOW) for _ in range(30)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == steps(0.1, 20)


def test_idle_time_earns_no_more_than_the_burst(run):
    run(reserve, "sms", 5, NOW)
    waits = [run(reserve, "sms", 5, NOW + 3600) for _ in range(10)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == steps(0.2, 5)


def test_below_one_a_second_the_burst_is_one_send(run):
    assert [run(reserve, "viber", 0.5, NOW) for _ in range(3)] == pytest.approx([0, 2, 4])


def test_each_sender_has_a_bucket_of_its_own(run):
    for _ in range(3):
        run(reserve, "email", 1, NOW)
    assert run(reserve, "sms", 1, NOW) == 0.0
    assert run(reserve, "email", 1, NOW) == pytest.approx(3.0)


def test_callers_racing_through_two_engines_get_one_slot_each(database_url, sessions):
    other = make_engine(database_url)  # a second messaging process's connection pool
    engines = [sessions, sessionmaker(other, expire_on_commit=False)]
    pool = eventlet.GreenPool(40)
    try:
        waits = list(
            pool.imap(lambda n: runner(engines[n % 2])(reserve, "email", 20, NOW), range(80))
        )
    finally:
        other.dispose()
    # 20 a second: the first 20 go at once, the other 60 one each 50 ms after.
    assert sorted(waits) == steps(0.05, 60, zeros=20)


@pytest.mark.postgres
def test_on_postgresql_the_buckets_are_unlogged(postgres_url):
    """A claim's commit need not wait for the WAL's flush (migration 0008 says why)."""
    sessions = next(migrated_sessions("messaging", postgres_url))
    with sessions() as session:
        persistence = session.scalar(
            text("SELECT relpersistence FROM pg_class WHERE relname = 'rate_buckets'")
        )
    sessions.kw["bind"].dispose()
    assert persistence == "u"
