"""Batch import: N contacts through `POST /v1/contacts/batch` (1,000 an item, one client
after the other, as `plexus import` sends them) against a COPY of the same rows into a
table like the contacts table (same columns, keys and indexes), in the same PostgreSQL
database, in one run.

    .venv/bin/python -m bench.batch_import --contacts 100000

The Plexus path does all an import does: the key check and rate limit, the JSON body,
full validation of every item (email syntax, phone numbers, languages, time zones),
matching against the stored contacts, the rows with their subscriptions and consent
ledger, and one outbox event per change. Only gateway and contacts run: the events wait
in their queues for the services that read them, which is not the import's time.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from bench.gateway_lookup import wait_for_contacts
from bench.harness import (
    arguments,
    drop_database,
    fresh_database,
    machine,
    report,
    temporary_vhost,
)
from plexus.ids import new_id
from tests.e2e.conftest import start_suite, stop_suite, suite_env

BATCH = 1000
COPY_REPEAT = 3


def person(n: int) -> dict:
    return {
        "user_id": f"import-{n}",
        "email": f"person{n}@example.com",
        "phone": f"+38050{n:07d}",
        "first_name": "Import",
        "last_name": f"Person {n}",
        "language": "uk",
        "timezone": "Europe/Kyiv",
    }


def through_api(suite, count: int) -> dict:
    http = suite.http()
    started, errors = time.perf_counter(), 0
    for first in range(0, count, BATCH):
        items = [person(n) for n in range(first, min(count, first + BATCH))]
        answer = http.post(suite.url + "/v1/contacts/batch", json={"contacts": items}, timeout=120)
        answer.raise_for_status()
        errors += sum(r["status"] == "error" for r in answer.json()["results"])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows_per_second": count / seconds, "errors": errors}


def through_copy(database_url: str, count: int, repeat: int = COPY_REPEAT) -> dict:
    """The same people as rows of the contacts table's shape, COPYed in: `repeat` times
    into tables of their own, the median run reported. One COPY of 100,000 rows takes
    2-4 s, and a single run moved with whatever else the shared machine was doing
    (20,000-68,000 rows/s in one hour), more than Plexus's side of the ratio."""
    columns = [
        "id",
        "user_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "language",
        "timezone",
        "status",
        "gender",
        "contact_score",
        "categories",
        "variables",
        "created_at",
        "updated_at",
    ]
    runs = []
    connection = psycopg2.connect(database_url)
    try:
        for run in range(repeat):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TABLE contacts.copy_target_{run} "
                    "(LIKE contacts.contacts INCLUDING ALL)"
                )
                connection.commit()
                started = time.perf_counter()
                rows = io.StringIO()
                for n in range(count):
                    p = person(n)
                    rows.write(
                        "\t".join(
                            [
                                new_id(),
                                p["user_id"],
                                p["email"],
                                p["phone"],
                                p["first_name"],
                                p["last_name"],
                                p["language"],
                                p["timezone"],
                                "active",
                                "0",
                                "0",
                                "{}",
                                "{}",
                                "2026-11-23 00:00:00+00",
                                "2026-11-23 00:00:00+00",
                            ]
                        )
                        + "\n"
                    )
                rows.seek(0)
                cursor.copy_expert(
                    f"COPY contacts.copy_target_{run} ({', '.join(columns)}) FROM STDIN", rows
                )
                connection.commit()
                runs.append(time.perf_counter() - started)
    finally:
        connection.close()
    seconds = statistics.median(runs)
    return {
        "seconds": seconds,
        "rows_per_second": count / seconds,
        "errors": 0,
        "runs_seconds": runs,
    }


def measure(count: int) -> dict:
    database_url = fresh_database()
    try:
        with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
            env = suite_env(uri, Path(data_dir), database_url)
            env.update({"PLEXUS_LOG_LEVEL": "WARNING"})
            suite = start_suite(
                env,
                Path(data_dir) / "suite.log",
                "--only",
                "gateway",
                "--only",
                "contacts",
                wait_for="/health",
            )
            try:
                wait_for_contacts(suite)
                api = through_api(suite, count)
            finally:
                stop_suite(suite)
        return {"plexus": api, "copy": through_copy(database_url, count)}
    finally:
        drop_database(database_url)


def table(count: int, results: dict) -> str:
    api, copy = results["plexus"], results["copy"]
    return "\n".join(
        [
            f"Batch import, {count:,} contacts, {BATCH:,} a request ({machine()})",
            "",
            "| path | seconds | rows/s | rejected |",
            "|---|---|---|---|",
            f"| POST /v1/contacts/batch | {api['seconds']:.1f} | {api['rows_per_second']:.0f} "
            f"| {api['errors']} |",
            f"| COPY (median of {len(copy['runs_seconds'])}) | {copy['seconds']:.1f} "
            f"| {copy['rows_per_second']:.0f} | 0 |",
            "",
            f"Plexus / COPY: {api['rows_per_second'] / copy['rows_per_second']:.3f}. "
            "Target (issue 8): at least 0.25, with full validation.",
        ]
    )


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    options = parser.parse_args(argv)
    results = measure(options.contacts)
    report(
        "Batch import",
        table(options.contacts, results),
        to_results=options.record,
        as_json={"contacts": options.contacts, **results} if options.json else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
