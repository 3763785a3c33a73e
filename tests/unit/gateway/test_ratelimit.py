import eventlet
import pytest

from plexus.db import autocommit, make_engine
from plexus.migrations import migrate_service
from services.gateway.logic.ratelimit import Limit, take

LIMIT = Limit(per_second=2, burst=3)


@pytest.fixture
def connection(sessions):
    with autocommit(sessions.kw["bind"]) as connection:
        yield connection


def test_a_burst_passes_then_the_bucket_refills_at_its_rate(connection):
    now = 1000.0
    assert [take(connection, "k1", "default", LIMIT, now) for _ in range(3)] == [0, 0, 0]
    assert take(connection, "k1", "default", LIMIT, now) == 0.5  # one token in 1/2 s
    assert take(connection, "k1", "default", LIMIT, now + 0.5) == 0
    assert take(connection, "k1", "default", LIMIT, now + 0.5) > 0
    # A long pause refills to the burst, no more.
    assert [take(connection, "k1", "default", LIMIT, now + 100) for _ in range(4)][-1] > 0


def test_a_refused_request_spends_nothing(connection):
    for _ in range(3):
        take(connection, "k1", "default", LIMIT, 0.0)
    assert take(connection, "k1", "default", LIMIT, 0.0) == 0.5
    assert take(connection, "k1", "default", LIMIT, 0.0) == 0.5  # not a token deeper
    assert take(connection, "k1", "default", LIMIT, 0.5) == 0


def test_buckets_are_per_key_and_per_class(connection):
    for _ in range(3):
        take(connection, "k1", "send", LIMIT, 0.0)
    assert take(connection, "k1", "send", LIMIT, 0.0) > 0
    assert take(connection, "k1", "default", LIMIT, 0.0) == 0
    assert take(connection, "k2", "send", LIMIT, 0.0) == 0


@pytest.mark.postgres
def test_concurrent_requests_of_one_key_get_exactly_the_burst(postgres_url, tmp_path):
    """Many connections spending from one bucket at once: exactly `burst` pass."""
    config = {"DATABASE_URL": postgres_url, "DATA_DIR": str(tmp_path)}
    migrate_service(config, "gateway")
    engine = make_engine(postgres_url, "gateway")
    limit = Limit(per_second=0.001, burst=25)

    def spend(_) -> float:
        with autocommit(engine) as connection:
            return take(connection, "k1", "default", limit, 5000.0)

    try:
        waits = list(eventlet.GreenPool(20).imap(spend, range(100)))
    finally:
        engine.dispose()
    assert waits.count(0.0) == 25 and all(w > 0 for w in waits if w)


def test_limits_come_from_config_and_zero_turns_them_off():
    assert Limit.from_config({"per_second": 0, "burst": 10}) is None
    assert Limit.from_config(None) is None
    assert Limit.from_config({"per_second": "5", "burst": "20"}) == Limit(5.0, 20.0)
    assert Limit.from_config({"per_second": 5}) == Limit(5.0, 5.0)
