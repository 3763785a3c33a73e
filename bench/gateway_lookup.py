"""Gateway look-up: `GET /v1/contacts/{id}` and `GET /v1/contacts?email=` through the
running gateway and contacts service, against a minimal WSGI app reading the same row
straight from the same table (bench/direct_wsgi.py), and `POST /v1/events` (one custom
event) against the same app doing one INSERT; on PostgreSQL and on SQLite, in one run:

- serially: a look-up by id against a raw AMQP request/reply round trip on the same
  broker (the floor under any RPC), and against the direct app;
- under wrk at 1, 16 and 64 connections (look-ups) and 16 (events).

    .venv/bin/python -m bench.gateway_lookup --contacts 1000 --seconds 10

The Plexus path does everything a client's request gets: API-key check, the per-key
rate-limit bucket (set high here so it never refuses), routing, an RPC to contacts (to
activity for events, which asks contacts for the contact), the contact with its
subscriptions, black lists and channels.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from kombu import Connection

from bench.harness import (
    arguments,
    drop_database,
    free_port,
    fresh_database,
    machine,
    report,
    temporary_vhost,
    timed,
)
from bench.rpc_roundtrip import ECHO_QUEUE, RawClient, start_echo_server
from plexus.config import PROJECT_ROOT
from plexus.consumer import queue_name
from plexus.contract.events import SUBSCRIPTIONS
from tests.e2e.conftest import start_suite, stop_suite, suite_env

CASES = ("by id", "by email")
DATABASES = ("postgres", "sqlite")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SERIAL_CALLS = 500


def wait_for_contacts(suite) -> None:
    """/health is up; the contacts service may still be starting."""
    http, deadline = suite.http(), time.monotonic() + 30
    while http.get(suite.url + "/v1/contacts?limit=1", timeout=15).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("contacts did not answer in 30 s")
        time.sleep(0.2)


def seed(suite, count: int) -> list[dict]:
    """`count` contacts through the batch route; their ids and emails."""
    http, seeded = suite.http(), []
    wait_for_contacts(suite)
    for start in range(0, count, 500):
        batch = [
            {
                "user_id": f"bench-{n}",
                "email": f"bench{n}@example.com",
                "first_name": "Bench",
                "last_name": f"Contact {n}",
            }
            for n in range(start, min(count, start + 500))
        ]
        answer = http.post(suite.url + "/v1/contacts/batch", json={"contacts": batch}, timeout=120)
        answer.raise_for_status()
        seeded += [
            {"id": r["id"], "email": item["email"]}
            for r, item in zip(answer.json()["results"], batch, strict=True)
        ]
    return seeded


def wait_for_activity(suite, seconds: float = 300) -> None:
    """Until activity has taken in the seeding's events: its backlog would load the
    machine during the measurements (segments does not run here; its queues just fill)."""
    queues = [queue_name("activity", source) for source in SUBSCRIPTIONS["activity"]]
    deadline = time.monotonic() + seconds
    with Connection(suite.env["PLEXUS_AMQP_URI"]) as connection:
        channel = connection.channel()
        while sum(channel.queue_declare(name, passive=True).message_count for name in queues):
            if time.monotonic() > deadline:
                raise RuntimeError(f"activity still busy after {seconds:g} s")
            time.sleep(0.5)


def start_direct(database_url: str, events_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.direct_wsgi",
        "--port",
        str(port),
        "--database",
        database_url,
    ]
    if events_url:
        command += ["--events-database", events_url]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/contacts/none", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the direct WSGI app did not start")


def paths(case: str, plexus: bool, contacts: list[dict]) -> list[str]:
    if case == "by id":
        prefix = "/v1/contacts/" if plexus else "/contacts/"
        return [prefix + c["id"] for c in contacts]
    prefix = "/v1/contacts?email=" if plexus else "/contacts?email="
    return [prefix + requests.utils.quote(c["email"]) for c in contacts]


def event_body(contact: dict) -> str:
    return json.dumps(
        {
            "contact": {"id": contact["id"]},
            "name": "bench_viewed",
            "properties": {"page": "/pricing", "seconds": 12},
        }
    )


def wrk_script(
    directory: Path, request_paths: list[str], key: str | None, bodies: list[str] | None = None
) -> Path:
    """A wrk script that walks through the contacts, one request each in turn: GETs, or
    POSTs of `bodies` (one per path) when given."""
    script = directory / f"walk-{len(list(directory.iterdir()))}.lua"
    lines = [
        "local paths = {" + ",".join(json.dumps(p) for p in request_paths) + "}",
        "local i = 0",
    ]
    if key:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {key}"')
    if bodies is None:
        lines += [
            "request = function()",
            "  i = i % #paths + 1",
            '  return wrk.format("GET", paths[i])',
            "end",
        ]
    else:
        lines += [
            "local bodies = {" + ",".join(json.dumps(b) for b in bodies) + "}",
            'wrk.headers["Content-Type"] = "application/json"',
            "request = function()",
            "  i = i % #paths + 1",
            '  return wrk.format("POST", paths[i], nil, bodies[i])',
            "end",
        ]
    script.write_text("\n".join(lines) + "\n")
    return script


def run_wrk(url: str, script: Path, connections: int, seconds: float) -> dict:
    done = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    def latency(share: str) -> float:
        found = re.search(rf"^\s+{share}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if found is None:
            raise RuntimeError(f"no {share}% latency in wrk's report:\n{output}")
        return float(found.group(1)) * UNITS[found.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": (int(errors.group(1)) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    }


def serial(suite, direct_url: str, contacts: list[dict], calls: int) -> dict:
    """One look-up at a time, by id: Plexus and the direct app, each timed per call."""
    plexus, direct = suite.http(), requests.Session()
    ids = itertools.cycle(c["id"] for c in contacts)

    def through_plexus():
        answer = plexus.get(f"{suite.url}/v1/contacts/{next(ids)}", timeout=10)
        assert answer.status_code == 200, answer.text

    def straight():
        answer = direct.get(f"{direct_url}/contacts/{next(ids)}", timeout=10)
        assert answer.status_code == 200, answer.text

    return {"plexus": timed(through_plexus, calls), "direct": timed(straight, calls)}


def raw_round_trip(uri: str, calls: int) -> dict:
    """The floor: the bare `amqp` library both sides, on the same broker and vhost."""
    stop = start_echo_server(uri)
    client = RawClient(uri)
    try:
        return timed(lambda: client.call("", ECHO_QUEUE, b"{}"), calls)
    finally:
        client.close()
        stop.set()


def measure(
    database: str,
    contacts: int,
    seconds: float,
    connection_counts: list[int],
    event_connections: list[int],
) -> dict:
    database_url = fresh_database() if database == "postgres" else None
    run = {"database": database, "results": [], "events": []}
    try:
        with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
            env = suite_env(uri, Path(data_dir), database_url)
            env.update(
                {
                    "PLEXUS_RATE_LIMIT_PER_SECOND": "1000000",
                    "PLEXUS_RATE_LIMIT_BURST": "1000000",
                    "PLEXUS_LOG_LEVEL": "WARNING",
                }
            )
            suite = start_suite(
                env,
                Path(data_dir) / "suite.log",
                "--only",
                "gateway",
                "--only",
                "contacts",
                "--only",
                "activity",
                wait_for="/health",
            )
            if database_url:
                direct, direct_url = start_direct(database_url, None)
            else:
                direct, direct_url = start_direct(
                    f"sqlite:///{data_dir}/contacts.db", f"sqlite:///{data_dir}/direct-events.db"
                )
            try:
                seeded = seed(suite, contacts)
                wait_for_activity(suite)
                run["serial"] = {
                    "raw": raw_round_trip(uri, SERIAL_CALLS * 2),
                    **serial(suite, direct_url, seeded, SERIAL_CALLS),
                }
                print(f"{database}, serial: {run['serial']}", flush=True)
                scripts = Path(data_dir)
                for case in CASES:
                    plexus = wrk_script(scripts, paths(case, True, seeded), suite.key)
                    baseline = wrk_script(scripts, paths(case, False, seeded), None)
                    for count in connection_counts:
                        run["results"].append(
                            {
                                "case": case,
                                "connections": count,
                                "plexus": run_wrk(suite.url, plexus, count, seconds),
                                "direct": run_wrk(direct_url, baseline, count, seconds),
                            }
                        )
                        print(
                            f"{database}, {case}, {count} connections: {run['results'][-1]}",
                            flush=True,
                        )
                bodies = [event_body(c) for c in seeded]
                plexus = wrk_script(scripts, ["/v1/events"] * len(seeded), suite.key, bodies)
                baseline = wrk_script(scripts, ["/events"] * len(seeded), None, bodies)
                for count in event_connections:
                    run["events"].append(
                        {
                            "case": "POST event",
                            "connections": count,
                            "plexus": run_wrk(suite.url, plexus, count, seconds),
                            "direct": run_wrk(direct_url, baseline, count, seconds),
                        }
                    )
                    print(
                        f"{database}, events, {count} connections: {run['events'][-1]}", flush=True
                    )
            finally:
                direct.terminate()
                direct.wait(timeout=10)
                stop_suite(suite)
    finally:
        if database_url:
            drop_database(database_url)
    return run


def table(contacts: int, seconds: float, runs: list[dict]) -> str:
    lines = [
        f"Gateway look-up and events, {contacts:,} contacts, wrk {seconds:g} s per cell "
        f"({machine()})",
        "",
        "Serial look-up by id, against a raw AMQP round trip on the same broker:",
        "",
        "| database | raw AMQP p50 ms | Plexus p50 ms | Plexus p99 ms | Plexus / raw "
        "| direct p50 ms |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        s = run["serial"]
        lines.append(
            f"| {run['database']} | {s['raw']['p50']:.2f} | {s['plexus']['p50']:.2f} "
            f"| {s['plexus']['p99']:.2f} | {s['plexus']['p50'] / s['raw']['p50']:.1f}"
            f" | {s['direct']['p50']:.2f} |"
        )
    lines += [
        "",
        "Under wrk, against the direct app (one row read, or one INSERT):",
        "",
        "| database | request | conns | Plexus req/s | direct req/s | ratio "
        "| Plexus p50 ms | Plexus p99 ms | direct p99 ms | Plexus errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for r in run["results"] + run["events"]:
            p, d = r["plexus"], r["direct"]
            lines.append(
                f"| {run['database']} | {r['case']} | {r['connections']} "
                f"| {p['per_second']:.0f} | {d['per_second']:.0f} "
                f"| {p['per_second'] / d['per_second']:.2f} | {p['p50']:.1f} | {p['p99']:.1f} "
                f"| {d['p99']:.1f} | {p['errors']} |"
            )
    lines += [
        "",
        "Targets (issue 14): serial look-up p50 at most 5x the raw AMQP round trip; "
        "look-ups and events at least 0.35x the direct app at 16 and 64 connections; "
        "p99 under 100 ms at 64 connections; no errors. The direct app: "
        "bench/direct_wsgi.py (eventlet WSGI, as the gateway, one statement).",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--event-connections", default="16")
    parser.add_argument("--databases", default=",".join(DATABASES))
    options = parser.parse_args(argv)
    counts = [int(c) for c in options.connections.split(",")]
    event_counts = [int(c) for c in options.event_connections.split(",") if c]
    runs = [
        measure(database, options.contacts, options.seconds, counts, event_counts)
        for database in options.databases.split(",")
    ]
    text = table(options.contacts, options.seconds, runs)
    report(
        "Gateway look-up",
        text,
        to_results=options.record,
        as_json={"contacts": options.contacts, "runs": runs} if options.json else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
