"""Propagation: how fast an import and a stream of events reach every service that reads
them, end to end through the whole suite, on SQLite and on PostgreSQL, each against the
broker's own floor measured in the same run.

    .venv/bin/python -m bench.propagation --contacts 5000 --events 10000

Import: N contacts through `POST /v1/contacts/batch` (1,000 a request, PARALLEL requests
at once, as `plexus import` sends them). Timed from the first request to the moment the
last contact's `added` item is in its feed and a segment matching every imported contact
counts N; also the backlog (messages in every consumer queue) at the last accept, and
how long after it the queues were empty.

Events: M custom events through `POST /v1/events/batch` (1,000 a request) about the
imported contacts, timed from the first request until every one is in the feeds and
segments has counted them all (its queues empty). Floor: M persistent messages published
with confirms and consumed with acknowledgements by the `amqp` library in one process.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import amqp
from kombu import Connection

from bench.gateway_lookup import wait_for_contacts
from bench.harness import (
    arguments,
    drop_database,
    fresh_database,
    machine,
    report,
    temporary_vhost,
)
from bench.raw_amqp import connect
from plexus.consumer import queue_name
from plexus.contract.events import SUBSCRIPTIONS
from plexus.db import make_engine
from tests.e2e.conftest import start_suite, stop_suite, suite_env

BATCH = 1000
PARALLEL = 4
LANGUAGE = "uk"  # every imported contact has it, and the segment asks for it
QUEUES = [
    queue_name(consumer, source)
    for consumer, sources in SUBSCRIPTIONS.items()
    for source in sources
]
PUBLISHERS = ("contacts", "activity", "segments", "messaging")
CPU_COLUMNS = ("gateway", "contacts", "activity", "segments", "messaging", "rabbitmq", "postgresql")


def person(n: int) -> dict:
    return {
        "user_id": f"prop-{n}",
        "email": f"prop{n}@example.com",
        "phone": f"+38067{n:07d}",
        "first_name": "Prop",
        "last_name": f"Person {n}",
        "language": LANGUAGE,
        "timezone": "Europe/Kyiv",
    }


def wait_until(
    condition: Callable[[], bool], seconds: float, what: str, every: float = 0.02
) -> float:
    """Seconds until `condition()` held (polled `every` seconds)."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > seconds:
            raise RuntimeError(f"{what}: not done in {seconds:g} s")
        time.sleep(every)
    return time.perf_counter() - started


class Backlog:
    """What is still on its way: messages in every consumer's queue, and events committed
    to a service's outbox and not yet published."""

    def __init__(self, env: dict):
        self.amqp_uri = env["PLEXUS_AMQP_URI"]
        shared = env.get("PLEXUS_DATABASE_URL")
        self.outboxes = {
            service: (
                make_engine(shared)
                if shared
                else make_engine(f"sqlite:///{env['PLEXUS_DATA_DIR']}/{service}.db"),
                f"{service}.outbox" if shared else "outbox",
            )
            for service in PUBLISHERS
        }

    def queues(self) -> dict[str, int]:
        with Connection(self.amqp_uri) as connection:
            channel = connection.channel()
            return {
                name: channel.queue_declare(name, passive=True).message_count for name in QUEUES
            }

    def unpublished(self) -> dict[str, int]:
        found = {}
        for service, (engine, table) in self.outboxes.items():
            with engine.connect() as connection:
                found[service] = connection.exec_driver_sql(
                    f"SELECT count(*) FROM {table}"
                ).scalar()
        return found

    def total(self) -> int:
        return sum(self.queues().values()) + sum(self.unpublished().values())

    def close(self) -> None:
        for engine, _ in self.outboxes.values():
            engine.dispose()


def trace(waiting: Backlog, stop) -> None:
    """--trace: what is on its way, twice a second, on stderr (where the time goes)."""
    started = time.perf_counter()
    while not stop.wait(0.5):
        queues = {
            name.removeprefix("plexus.events."): n for name, n in waiting.queues().items() if n
        }
        outboxes = {name: n for name, n in waiting.unpublished().items() if n}
        print(
            f"{time.perf_counter() - started:6.1f}s queues {queues} outboxes {outboxes}",
            file=sys.stderr,
        )


def cpu_seconds(data_dir: str) -> dict[str, float]:
    """CPU time used so far by each process of the suite on `data_dir` (by its
    PLEXUS_SERVICE), by RabbitMQ and by PostgreSQL: where the time goes."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue  # gone, or not ours to read
        if f"PLEXUS_DATA_DIR={data_dir}".encode() in environ:
            service = next(
                (e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"PLEXUS_SERVICE=")),
                None,
            )
        else:
            service = {"beam.smp": "rabbitmq", "postgres": "postgresql"}.get(command)
        if service:
            used[service] = used.get(service, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def post_batches(suite, path: str, key: str, batches: list[list[dict]]) -> list[dict]:
    http = suite.http()

    def post(items: list[dict]) -> list[dict]:
        answer = http.post(suite.url + path, json={key: items}, timeout=300)
        answer.raise_for_status()
        return answer.json()["results"]

    with ThreadPoolExecutor(PARALLEL) as pool:
        return [result for results in pool.map(post, batches) for result in results]


def get(suite, path: str, **query) -> dict:
    answer = suite.http().get(suite.url + path, params=query, timeout=30)
    answer.raise_for_status()
    return answer.json()


def import_contacts(suite, waiting: Backlog, count: int) -> tuple[dict, list[str]]:
    """The import end to end, with the CPU each process spent on it."""
    segment = (
        suite.http()
        .post(
            suite.url + "/v1/segments",
            json={"name": "imported", "rule": {"field": "language", "op": "eq", "value": LANGUAGE}},
            timeout=30,
        )
        .json()
    )
    people = [person(n) for n in range(count)]
    cpu_before = cpu_seconds(suite.env["PLEXUS_DATA_DIR"])
    started = time.perf_counter()
    results = post_batches(
        suite,
        "/v1/contacts/batch",
        "contacts",
        [people[i : i + BATCH] for i in range(0, count, BATCH)],
    )
    accepted = time.perf_counter() - started
    queued = waiting.total()
    ids = [r["id"] for r in results if r["status"] == "created"]
    last = ids[-1]

    def in_feed() -> bool:
        return bool(get(suite, f"/v1/contacts/{last}/activity", type="added")["data"])

    def counted() -> bool:
        return get(suite, f"/v1/segments/{segment['id']}")["member_count"] == count

    drained = wait_until(lambda: waiting.total() == 0, 3600, "nothing on its way")
    wait_until(lambda: in_feed() and counted(), 3600, "import in the feed and the segment")
    end_to_end = time.perf_counter() - started
    cpu_after = cpu_seconds(suite.env["PLEXUS_DATA_DIR"])
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    return {
        "contacts": count,
        "created": len(ids),
        "accept_seconds": accepted,
        "cpu": cpu,
        "end_to_end_seconds": end_to_end,
        "per_second": count / end_to_end,
        "backlog_at_accept": queued,
        "drained_after_accept": drained,
    }, ids


def post_events(suite, ids: list[str], count: int) -> dict:
    """`count` events spread evenly over the contacts `ids`: done when a segment of the
    contacts with that many of them counts every contact (activity -> segments)."""
    each = max(1, count // len(ids))
    segment = (
        suite.http()
        .post(
            suite.url + "/v1/segments",
            json={
                "name": "viewed",
                "rule": {"activity": {"name": "bench_viewed", "min_count": each}},
            },
            timeout=30,
        )
        .json()
    )
    events = [
        {"contact": {"id": ids[n % len(ids)]}, "name": "bench_viewed", "properties": {"n": n}}
        for n in range(count)
    ]
    started = time.perf_counter()
    results = post_batches(
        suite, "/v1/events/batch", "events", [events[i : i + BATCH] for i in range(0, count, BATCH)]
    )
    accepted = time.perf_counter() - started
    refused = sum(r["status"] != "accepted" for r in results)
    everyone = min(len(ids), count)
    wait_until(
        lambda: get(suite, f"/v1/segments/{segment['id']}")["member_count"] == everyone,
        3600,
        "events counted",
    )
    seconds = time.perf_counter() - started
    return {
        "events": count,
        "refused": refused,
        "accept_seconds": accepted,
        "seconds": seconds,
        "per_second": count / seconds,
    }


def floor(amqp_uri: str, count: int) -> dict:
    """`count` persistent messages published with confirms, then consumed and acked."""
    connection = connect(amqp_uri)
    channel = connection.channel()
    channel.queue_declare("bench-propagation-floor", durable=True, auto_delete=False)
    channel.confirm_select()
    body = '{"event": "custom_event", "name": "bench_viewed", "properties": {"n": 0}}'
    started = time.perf_counter()
    for _ in range(count):
        channel.basic_publish(
            amqp.Message(body, delivery_mode=2, content_type="application/json"),
            routing_key="bench-propagation-floor",
        )
    consumed = 0

    def take(message: amqp.Message) -> None:
        nonlocal consumed
        consumed += 1
        channel.basic_ack(message.delivery_tag)

    channel.basic_qos(0, 1000, False)
    tag = channel.basic_consume("bench-propagation-floor", callback=take)
    while consumed < count:
        connection.drain_events(timeout=10)
    seconds = time.perf_counter() - started
    channel.basic_cancel(tag)
    channel.queue_delete("bench-propagation-floor")
    connection.close()
    return {"events": count, "seconds": seconds, "per_second": count / seconds}


def measure(backend: str, contacts: int, events: int, tracing: bool = False) -> dict:
    database_url = fresh_database() if backend == "postgresql" else None
    try:
        with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
            env = suite_env(uri, Path(data_dir), database_url)
            env["PLEXUS_LOG_LEVEL"] = "WARNING"
            suite = start_suite(env, Path(data_dir) / "suite.log")
            waiting = Backlog(env)
            stop = threading.Event()
            if tracing:
                threading.Thread(target=trace, args=(Backlog(env), stop), daemon=True).start()
            try:
                wait_for_contacts(suite)
                imported, ids = import_contacts(suite, waiting, contacts)
                streamed = post_events(suite, ids, events) if events else None
            except Exception:
                print(suite.log.read_text()[-6000:], file=sys.stderr)
                raise
            finally:
                stop.set()
                waiting.close()
                stop_suite(suite)
            raw = floor(uri, events) if events else None
        return {"backend": backend, "import": imported, "events": streamed, "floor": raw}
    finally:
        if database_url:
            drop_database(database_url)


def table(runs: list[dict]) -> str:
    lines = [
        f"Propagation through the whole suite ({machine()}); imports send {PARALLEL} "
        f"requests of {BATCH:,} at once",
        "",
        "| database | contacts | accepted in s | end to end s | contacts/s end to end "
        "| backlog at accept | queues empty after accept, s |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        i = run["import"]
        lines.append(
            f"| {run['backend']} | {i['contacts']:,} | {i['accept_seconds']:.1f} | "
            f"{i['end_to_end_seconds']:.1f} | {i['per_second']:.0f} | "
            f"{i['backlog_at_accept']:,} | {i['drained_after_accept']:.1f} |"
        )
    lines += [
        "",
        "CPU seconds per 1,000 contacts imported, by process (from /proc, import to last count):",
        "",
        "| database | " + " | ".join(CPU_COLUMNS) + " | all |",
        "|---|" + "---|" * (len(CPU_COLUMNS) + 1),
    ]
    for run in runs:
        cpu, per = run["import"]["cpu"], 1000 / run["import"]["contacts"]
        cells = [f"{cpu.get(name, 0.0) * per:.2f}" for name in CPU_COLUMNS]
        lines.append(
            f"| {run['backend']} | " + " | ".join(cells) + f" | {sum(cpu.values()) * per:.2f} |"
        )
    lines += [
        "",
        "| database | events | accepted in s | in feeds and segments, s | events/s | "
        "floor events/s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        e, f = run["events"], run["floor"]
        if e is None:
            continue
        lines.append(
            f"| {run['backend']} | {e['events']:,} | {e['accept_seconds']:.1f} | "
            f"{e['seconds']:.1f} | {e['per_second']:.0f} | {f['per_second']:.0f} | "
            f"{e['per_second'] / f['per_second']:.2f}x |"
        )
    lines += [
        "",
        "Targets (issue 13): import at least 1,000 contacts/s end to end; events at "
        "least 0.5x the floor; queues empty within 10 s of the last accept.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--trace", action="store_true", help="print the queues and outboxes twice a second (stderr)"
    )
    options = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    runs = [
        measure(backend, options.contacts, options.events, options.trace) for backend in backends
    ]
    report(
        "Propagation",
        table(runs),
        to_results=options.record,
        as_json={"runs": runs} if options.json else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
