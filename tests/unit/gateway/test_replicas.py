import pytest

from plexus.db import autocommit
from services.gateway.logic import replicas


@pytest.fixture
def connection(sessions):
    with autocommit(sessions.kw["bind"]) as connection:
        yield connection


def test_replicas_count_each_other_and_forget_the_silent_and_the_gone(connection):
    assert replicas.beat(connection, "a", 1000.0, stale_after=3) == 1
    assert replicas.beat(connection, "b", 1000.5, stale_after=3) == 2
    assert replicas.beat(connection, "a", 1001.0, stale_after=3) == 2  # its own row again
    # b falls silent (killed): after stale_after it no longer counts.
    assert replicas.beat(connection, "a", 1004.0, stale_after=3) == 1
    replicas.beat(connection, "c", 1004.5, stale_after=3)
    replicas.leave(connection, "c")  # stopped: stops counting at once
    assert replicas.beat(connection, "a", 1005.0, stale_after=3) == 1
