"""kill -9 a consumer in the middle of a burst of events: after a restart every event is
processed exactly once in effect (as many feed rows as events, none twice). The broker
redelivers what was unacknowledged at the kill; activity recognises the event ids it
already stored."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

from kombu import Connection
from kombu.pools import producers
from nameko.standalone.events import get_event_exchange

from plexus.config import PROJECT_ROOT
from plexus.contract import events
from plexus.timeutil import rfc3339, utcnow
from tests.polling import wait_for

EVENTS = int(os.environ.get("PLEXUS_FAULT_EVENTS", "10000"))


def environment(amqp_uri: str, data_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXUS_")}
    env.update(
        {
            "PLEXUS_AMQP_URI": amqp_uri,
            "PLEXUS_DATA_DIR": str(data_dir),
            "PLEXUS_ACTIVITY_METRICS_PORT": "0",
            "PLEXUS_LOG_LEVEL": "WARNING",
            "EVENTLET_TESTS": "1",
        }
    )
    return env


def start_activity(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(PROJECT_ROOT / "config.yaml"),
            "services.activity.entrypoints:ActivityService",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def publish_burst(amqp_uri: str, count: int) -> None:
    exchange = get_event_exchange(events.CONTACTS)
    occurred = rfc3339(utcnow())
    with Connection(amqp_uri) as connection, producers[connection].acquire(block=True) as p:
        for n in range(count):
            p.publish(
                {
                    "event": events.CONTACT_CREATED,
                    "event_id": f"burst-{n}",
                    "occurred_at": occurred,
                    "actor": "fault-test",
                    "contact_id": f"contact-{n}",
                    "contact": {"id": f"contact-{n}"},
                },
                exchange=exchange,
                routing_key=events.CONTACT_CREATED,
                serializer="json",
                declare=[exchange],
                retry=True,
            )


def rows(database) -> tuple[int, int]:
    """(feed rows, distinct source events) in activity's database."""
    try:
        with sqlite3.connect(database, timeout=30) as connection:
            return connection.execute(
                "SELECT count(*), count(DISTINCT source_event_id) FROM activity_items"
            ).fetchone()
    except sqlite3.OperationalError:  # not made yet, or busy
        return (0, 0)


def test_kill_9_mid_burst_loses_nothing_and_doubles_nothing(amqp_uri, tmp_path):
    env = environment(amqp_uri, tmp_path)
    migrated = subprocess.run(
        [sys.executable, "-m", "ops.cli", "migrate", "activity"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr  # also declares the event queues
    database = tmp_path / "activity.db"
    publish_burst(amqp_uri, EVENTS)

    first = start_activity(env)
    try:
        at_kill = wait_for(
            lambda: (n := rows(database)[0]) >= EVENTS // 4 and n, 300, "a quarter of the burst"
        )
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert at_kill < EVENTS, "the burst was over before the kill: nothing was tested"
    print(f"killed after {at_kill} of {EVENTS} events were stored")

    second = start_activity(env)
    try:
        wait_for(lambda: rows(database)[0] >= EVENTS, 600, "the whole burst")
        time.sleep(1.0)  # anything redelivered late would land now
        total, distinct = rows(database)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert (total, distinct) == (EVENTS, EVENTS), f"killed at {at_kill} rows"
