"""A handler that holds its process longer than two AMQP heartbeats (nameko issue #477):
the broker takes the silent connection for dead and delivers its message again, with
every other one that was not acknowledged yet. Each must still take effect once.

The probe service (tests/faults/slow_consumer.py) runs as its own `nameko run` process
on the real broker, with a two-second heartbeat."""

import collections
import subprocess
import sys
import urllib.parse

from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from plexus.config import PROJECT_ROOT
from plexus.consumer import queue_name
from tests.faults.test_consumer_crash import environment
from tests.polling import wait_for

HEARTBEAT = 2  # seconds: the broker drops a connection that said nothing for two
HOLD = 8  # seconds the slow handler holds its process: well past two heartbeats
QUICK = 10  # events that wait, unacknowledged, behind the slow one
QUEUE = queue_name("slowprobe", "contacts")


def publish(amqp_uri: str, event_id: str, hold: float = 0) -> None:
    exchange = get_event_exchange("contacts")
    Publisher(amqp_uri, declare=[exchange]).publish(
        {"event": "contact_created", "event_id": event_id, "block": hold},
        exchange=exchange,
        routing_key="contact_created",
    )


def queue_state(amqp_uri: str) -> tuple[int, int]:
    """(messages ready or unacknowledged, consumers) of the probe's queue."""
    vhost = urllib.parse.unquote(urllib.parse.urlparse(amqp_uri).path[1:]) or "/"
    listed = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages",
            "consumers",
            "--no-table-headers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for line in listed.stdout.splitlines():
        name, messages, consumers = line.split("\t")
        if name == QUEUE:
            return int(messages), int(consumers)
    return 0, 0


def runs(path) -> collections.Counter:
    return collections.Counter(path.read_text().split()) if path.exists() else collections.Counter()


def test_a_handler_holding_its_process_past_two_heartbeats_takes_effect_once(amqp_uri, tmp_path):
    effects, log = tmp_path / "runs", tmp_path / "probe.log"
    env = {
        **environment(amqp_uri, tmp_path),
        "PLEXUS_AMQP_HEARTBEAT": str(HEARTBEAT),
        "PLEXUS_PROBE_RUNS": str(effects),
        "PLEXUS_LOG_FORMAT": "text",
    }
    with open(log, "wb") as output:
        probe = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nameko",
                "run",
                "--config",
                str(PROJECT_ROOT / "config.yaml"),
                "tests.faults.slow_consumer:SlowProbe",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: queue_state(amqp_uri)[1] >= 1, 30, "the probe consuming", every=0.3)
        publish(amqp_uri, "slow", hold=HOLD)
        for n in range(QUICK):
            publish(amqp_uri, f"quick-{n}")
        expected = {"slow", *(f"quick-{n}" for n in range(QUICK))}

        # Done: every event took effect, and the broker holds nothing more for the probe,
        # which is consuming again. A second run of anything fails at once.
        def settled():
            seen = runs(effects)
            assert max(seen.values(), default=1) == 1, f"ran twice: {seen}"
            return set(seen) == expected and queue_state(amqp_uri) == (0, 1)

        wait_for(settled, 40, "every event handled and acknowledged", every=0.3)
    finally:
        probe.terminate()
        probe.wait(timeout=30)
    said = log.read_text()
    # The fault really happened: the probe lost its connection and made a new one.
    assert "Connection to broker lost" in said or "missed heartbeats" in said, said[-3000:]
    assert runs(effects) == collections.Counter(expected)
