"""The database driver must not block the eventlet hub. If it did,
one slow query would stall every worker of the process."""

import time

import eventlet
from sqlalchemy import text

from plexus.db import make_engine


def test_two_slow_postgres_queries_overlap(postgres_url):
    engine = make_engine(postgres_url)

    def slow_query():
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(1)"))

    try:
        slow_query()  # open the pool's first connection outside the measurement
        started = time.monotonic()
        pool = eventlet.GreenPool()
        for _ in range(2):
            pool.spawn(slow_query)
        pool.waitall()
        elapsed = time.monotonic() - started
    finally:
        engine.dispose()
    # Serial would be >= 2 s; overlapping green threads take about 1 s.
    assert elapsed < 1.7, f"two 1 s queries took {elapsed:.2f} s: the driver blocks the hub"
