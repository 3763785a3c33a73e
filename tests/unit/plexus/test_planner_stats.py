"""Planner statistics kept up with bulk writes: a table that filled since its last
ANALYZE is analyzed, and then plans as the full table it is; on PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from plexus.db import make_engine
from plexus.planner_stats import analyze_stale

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_url):
    with make_engine(postgres_url).begin() as connection:
        connection.execute(text("CREATE SCHEMA shop"))
    made = make_engine(postgres_url, "shop")
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE flags (id int PRIMARY KEY, kind text)"))
        connection.execute(text("CREATE INDEX ix_flags_kind ON flags (kind)"))
        connection.execute(text("CREATE TABLE quiet (id int PRIMARY KEY)"))
        connection.execute(text("ANALYZE flags"))  # empty, as a new service's tables are
        connection.execute(text("INSERT INTO quiet VALUES (1), (2)"))
    yield made
    made.dispose()


def estimated_rows(engine, where: str) -> int:
    with engine.connect() as connection:
        plan = connection.execute(text(f"EXPLAIN (FORMAT JSON) SELECT * FROM flags {where}"))
        return plan.scalar()[0]["Plan"]["Plan Rows"]


def test_a_table_filled_since_its_last_analyze_is_analyzed_once(engine):
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO flags SELECT n, 'subscribed' FROM generate_series(1, 20000) n")
        )
    assert estimated_rows(engine, "WHERE kind = 'subscribed'") < 1000  # planned as empty
    # A backend reports its row counts within a second or so of its commit.
    deadline = time.monotonic() + 10
    while not (analyzed := analyze_stale(engine)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert analyzed == ["flags"]  # `quiet` changed by too little to matter
    assert estimated_rows(engine, "WHERE kind = 'subscribed'") == 20000
    assert analyze_stale(engine) == []  # nothing changed since


def test_nothing_to_do_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert analyze_stale(engine) == []
