"""What every benchmark shares: timing with percentiles, a throw-away vhost or
PostgreSQL database, free ports, and the results table in bench/results.md.

A benchmark measures the Plexus path and its baseline in the same run and reports the
ratio, so a slower or busier machine moves both sides alike."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

BROKER = os.environ.get("PLEXUS_TEST_BROKER", "127.0.0.1:5672")
POSTGRES = os.environ.get("PLEXUS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RESULTS = Path(__file__).with_name("results.md")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(action: Callable[[], object], repeat: int, warmup: int = 20) -> dict:
    """Milliseconds per call: p50, p99, and calls a second when run back to back."""
    for _ in range(min(warmup, repeat)):
        action()
    samples = []
    started = time.perf_counter()
    for _ in range(repeat):
        begun = time.perf_counter()
        action()
        samples.append((time.perf_counter() - begun) * 1000)
    elapsed = time.perf_counter() - started
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 0.99),
        "per_second": repeat / elapsed if elapsed else 0.0,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def temporary_vhost() -> Iterator[str]:
    """An AMQP URI on a vhost of its own, deleted afterwards."""
    vhost = f"plexus-bench-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"pyamqp://guest:guest@{BROKER}/{urllib.parse.quote(vhost, safe='')}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def _postgres_admin(statement: str) -> None:
    import psycopg2

    admin = psycopg2.connect(f"{POSTGRES}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(statement)
    admin.close()


def fresh_database() -> str:
    name = f"plexus_bench_{uuid.uuid4().hex[:8]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def drop_database(url: str) -> None:
    _postgres_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pid() -> int | None:
    """RabbitMQ's Erlang VM on this machine, if it runs here."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "beam.smp":
                return int(pid)
        except OSError:
            continue
    return None


def machine() -> str:
    return (
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def record(section: str, markdown: str) -> None:
    """Put one benchmark's table into bench/results.md, replacing its earlier one."""
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else (
            "# Benchmark results\n\nWritten by `make bench` (each benchmark replaces its own "
            "section). Ratios compare Plexus with a baseline measured in the same run.\n"
        )
    )
    marker = f"\n## {section}\n"
    if marker in text:
        head, _, rest = text.partition(marker)
        following = rest.find("\n## ")
        text = head + (rest[following:] if following >= 0 else "\n")
    RESULTS.write_text(text.rstrip("\n") + "\n" + marker + "\n" + markdown.strip() + "\n")


def report(section: str, markdown: str, *, to_results: bool, as_json: dict | None) -> None:
    """A benchmark's end: its table on stdout, in bench/results.md when asked (`--record`),
    and its figures as one JSON line last (`--json`, what the smoke tests read)."""
    print(markdown)
    if to_results:
        record(section, markdown)
    if as_json is not None:
        print(json.dumps(as_json))


def arguments(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line: described by its docstring's first paragraph, with
    --json and --record (see report) besides its own options."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--record", action="store_true", help="write bench/results.md")
    return parser
