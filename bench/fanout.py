"""Event fan-out: from a contact update through the gateway to its row in the activity
feed, against the floor of the same hop done by hand (a raw AMQP publish to a raw
consumer that inserts a row), on the same broker and PostgreSQL server, in one run.

    .venv/bin/python -m bench.fanout --updates 300

Plexus path: `PATCH /v1/contacts/{id}` answers after contacts committed the change and
its outbox row; the relay publishes `contact_updated`; activity's consumer stores the
feed item. Timed from sending the PATCH to the row being readable (polled every
millisecond), one update at a time. Baseline: publish a message with the `amqp` library
to a queue whose consumer (the `amqp` library, in a thread) inserts a row; timed the
same way.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import amqp
import psycopg2

from bench.harness import (
    arguments,
    drop_database,
    fresh_database,
    machine,
    percentile,
    report,
    temporary_vhost,
)
from bench.raw_amqp import connect, raw_consumer
from tests.e2e.conftest import start_suite, stop_suite, suite_env

FLOOR_QUEUE = "bench-fanout"


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.perf_counter() + seconds
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError("the row did not come in 10 s")
        time.sleep(0.001)


def rows(cursor, statement: str, *args) -> int:
    cursor.execute(statement, args)
    return cursor.fetchone()[0]


def latencies(send: Callable[[int], None], stored: Callable[[], int], count: int) -> dict:
    """p50 and p99 from sending to the row being there, and of sending alone."""
    samples, sends = [], []
    for n in range(count):
        before = stored()
        started = time.perf_counter()
        send(n)
        sends.append((time.perf_counter() - started) * 1000)
        wait_until(lambda before=before: stored() > before)
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50": percentile(samples, 0.5),
        "p99": percentile(samples, 0.99),
        "send_p50": percentile(sends, 0.5),
    }


def plexus_fanout(uri: str, database_url: str, reader, count: int, data_dir: Path) -> dict:
    env = suite_env(uri, data_dir, database_url)
    env["PLEXUS_LOG_LEVEL"] = "WARNING"
    suite = start_suite(
        env,
        data_dir / "suite.log",
        "--only",
        "gateway",
        "--only",
        "contacts",
        "--only",
        "activity",
        wait_for="/health",
    )
    try:
        http = suite.http()
        contact = None
        deadline = time.monotonic() + 30
        while contact is None:  # /health is up; contacts may still be starting
            answer = http.post(
                suite.url + "/v1/contacts", json={"email": "fan@example.com"}, timeout=15
            )
            if answer.status_code == 201:
                contact = answer.json()
            elif time.monotonic() > deadline:
                raise RuntimeError(answer.text)
            else:
                time.sleep(0.2)
        query = (
            "SELECT count(*) FROM activity.activity_items "
            "WHERE contact_id = %s AND type = 'updated'"
        )

        def update(n: int) -> None:
            http.patch(
                f"{suite.url}/v1/contacts/{contact['id']}",
                json={"first_name": f"Fan {n}"},
                timeout=15,
            ).raise_for_status()

        update(-1)  # the first one waits on the consumer starting up
        wait_until(lambda: rows(reader, query, contact["id"]) > 0, 30)
        return latencies(update, lambda: rows(reader, query, contact["id"]), count)
    finally:
        stop_suite(suite)


def floor_fanout(uri: str, database_url: str, reader, count: int) -> dict:
    reader.execute("CREATE TABLE public.fanout_floor (n integer, body text)")
    writer = psycopg2.connect(database_url)
    writer.autocommit = True

    def store(channel, message) -> None:
        with writer.cursor() as cursor:
            cursor.execute(
                "INSERT INTO public.fanout_floor VALUES (%s, %s)", (len(message.body), message.body)
            )
        channel.basic_ack(message.delivery_tag)

    stop = raw_consumer(uri, FLOOR_QUEUE, store)
    publisher = connect(uri)
    channel = publisher.channel()
    try:
        return latencies(
            lambda n: channel.basic_publish(
                amqp.Message(f'{{"n": {n}}}', delivery_mode=2), exchange="", routing_key=FLOOR_QUEUE
            ),
            lambda: rows(reader, "SELECT count(*) FROM public.fanout_floor"),
            count,
        )
    finally:
        stop.set()
        publisher.close()
        writer.close()


def measure(count: int) -> dict:
    database_url = fresh_database()
    reader_connection = psycopg2.connect(database_url)
    reader_connection.autocommit = True
    try:
        reader = reader_connection.cursor()
        with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
            return {
                "floor": floor_fanout(uri, database_url, reader, count),
                "plexus": plexus_fanout(uri, database_url, reader, count, Path(data_dir)),
            }
    finally:
        reader_connection.close()
        drop_database(database_url)


def table(count: int, results: dict) -> str:
    floor, plexus = results["floor"], results["plexus"]
    return "\n".join(
        [
            f"Event fan-out, {count:,} updates one at a time ({machine()})",
            "",
            "| path | p50 ms | p99 ms | p50 / floor | of which sending, p50 ms |",
            "|---|---|---|---|---|",
            f"| raw publish -> raw consumer -> row | {floor['p50']:.1f} | {floor['p99']:.1f} "
            f"| 1.00 | {floor['send_p50']:.1f} |",
            f"| PATCH contact -> activity row | {plexus['p50']:.1f} | {plexus['p99']:.1f} "
            f"| {plexus['p50'] / floor['p50']:.1f} | {plexus['send_p50']:.1f} (the PATCH) |",
            "",
            "The Plexus path holds the HTTP request, the commit with its outbox row, the relay's "
            "publish (confirmed, persistent) and the consumer's own transaction.",
        ]
    )


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--updates", type=int, default=300)
    options = parser.parse_args(argv)
    results = measure(options.updates)
    report(
        "Event fan-out",
        table(options.updates, results),
        to_results=options.record,
        as_json={"updates": options.updates, **results} if options.json else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
