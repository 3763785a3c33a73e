"""Gateway look-up: `GET /v1/contacts/{id}` and `GET /v1/contacts?email=` through the
running gateway and contacts service, against a minimal WSGI app reading the same row
straight from the same PostgreSQL table (bench/direct_wsgi.py), both under wrk at 1, 16
and 64 connections, in one run.

    .venv/bin/python -m bench.gateway_lookup --contacts 1000 --seconds 10

The Plexus path does everything a client's request gets: API-key check, the per-key
rate-limit bucket (set high here so it never refuses), routing, an RPC to contacts, the
contact with its subscriptions, black lists and variables, and the public schema.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.harness import (
    arguments,
    drop_database,
    free_port,
    fresh_database,
    machine,
    report,
    temporary_vhost,
)
from plexus.config import PROJECT_ROOT
from tests.e2e.conftest import start_suite, stop_suite, suite_env

CASES = ("by id", "by email")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


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
        batch = [{"user_id": f"bench-{n}", "email": f"bench{n}@example.com",
                  "first_name": "Bench", "last_name": f"Contact {n}"}
                 for n in range(start, min(count, start + 500))]
        answer = http.post(suite.url + "/v1/contacts/batch", json={"contacts": batch},
                           timeout=120)
        answer.raise_for_status()
        seeded += [{"id": r["id"], "email": item["email"]}
                   for r, item in zip(answer.json()["results"], batch, strict=True)]
    return seeded


def start_direct(database_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.direct_wsgi", "--port", str(port), "--database",
         database_url], cwd=PROJECT_ROOT)
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


def wrk_script(directory: Path, request_paths: list[str], key: str | None) -> Path:
    """A wrk script that walks through the contacts, one request each in turn."""
    script = directory / f"walk-{len(list(directory.iterdir()))}.lua"
    lines = ["local paths = {" + ",".join(json.dumps(p) for p in request_paths) + "}",
             "local i = 0"]
    if key:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {key}"')
    lines += ["request = function()", "  i = i % #paths + 1",
              '  return wrk.format("GET", paths[i])', "end"]
    script.write_text("\n".join(lines) + "\n")
    return script


def run_wrk(url: str, script: Path, connections: int, seconds: float) -> dict:
    done = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s",
         "--latency", "--timeout", "10s", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    def latency(share: str) -> float:
        found = re.search(rf"^\s+{share}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if found is None:
            raise RuntimeError(f"no {share}% latency in wrk's report:\n{output}")
        return float(found.group(1)) * UNITS[found.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {"per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": latency("50"), "p99": latency("99"),
            "errors": (int(errors.group(1)) if errors else 0)
            + (sum(map(int, socket_errors.groups())) if socket_errors else 0)}


def measure(contacts: int, seconds: float, connection_counts: list[int]) -> list[dict]:
    database_url = fresh_database()
    results = []
    try:
        with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
            env = suite_env(uri, Path(data_dir), database_url)
            env.update({"PLEXUS_RATE_LIMIT_PER_SECOND": "1000000",
                        "PLEXUS_RATE_LIMIT_BURST": "1000000", "PLEXUS_LOG_LEVEL": "WARNING"})
            suite = start_suite(env, Path(data_dir) / "suite.log", "--only", "gateway",
                                "--only", "contacts", wait_for="/health")
            direct, direct_url = start_direct(database_url)
            try:
                seeded = seed(suite, contacts)
                scripts = Path(data_dir)
                for case in CASES:
                    plexus = wrk_script(scripts, paths(case, True, seeded), suite.key)
                    baseline = wrk_script(scripts, paths(case, False, seeded), None)
                    for count in connection_counts:
                        results.append({
                            "case": case, "connections": count,
                            "plexus": run_wrk(suite.url, plexus, count, seconds),
                            "direct": run_wrk(direct_url, baseline, count, seconds)})
                        print(f"{case}, {count} connections: {results[-1]}", flush=True)
            finally:
                direct.terminate()
                direct.wait(timeout=10)
                stop_suite(suite)
    finally:
        drop_database(database_url)
    return results


def table(contacts: int, seconds: float, results: list[dict]) -> str:
    lines = [f"Gateway look-up, {contacts:,} contacts, wrk {seconds:g} s per cell "
             f"({machine()})", "",
             "| look-up | conns | Plexus req/s | direct req/s | ratio | Plexus p50 ms "
             "| Plexus p99 ms | direct p99 ms | Plexus errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        p, d = r["plexus"], r["direct"]
        lines.append(f"| {r['case']} | {r['connections']} | {p['per_second']:.0f} "
                     f"| {d['per_second']:.0f} | {p['per_second'] / d['per_second']:.2f} "
                     f"| {p['p50']:.1f} | {p['p99']:.1f} | {d['p99']:.1f} | {p['errors']} |")
    lines += ["", "Targets (issue 8): Plexus throughput at least 0.5x direct; p99 under 50 ms "
              "at 64 connections; no errors. The direct app: bench/direct_wsgi.py (eventlet "
              "WSGI, as the gateway, reading one row)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", default="1,16,64")
    options = parser.parse_args(argv)
    counts = [int(c) for c in options.connections.split(",")]
    results = measure(options.contacts, options.seconds, counts)
    text = table(options.contacts, options.seconds, results)
    report("Gateway look-up", text, to_results=options.record,
           as_json={"contacts": options.contacts, "results": results} if options.json else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
