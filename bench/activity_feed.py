"""The activity feed on PostgreSQL at volume: load N rows (default 10,000,000) with
generate_series, then time the feed's first page and a filtered first page, through
the activity logic function and as the bare SQL that function runs, in the same run.

    .venv/bin/python -m bench.activity_feed --rows 1000000
    PLEXUS_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432 (the server; a database
    of its own is made and dropped, unless --keep)

One contact (the "busy" one, the one measured) gets rows/10 items, at most 1,000,000;
the rest are spread over rows/200 contacts. Times are spread over the last 120 days,
in the monthly partitions (docs/activity.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg2
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import arguments, drop_database, fresh_database, machine, report, timed
from plexus.db import make_engine, transaction
from plexus.migrations import migrate_service
from plexus.timeutil import utcnow
from services.activity.logic.feed import feed, feed_query
from services.activity.logic.partitions import ensure_partitions

BUSY_CONTACT = "busy0000000000000000000000"
DAYS = 120
CHUNK = 1_000_000
# (channel, type) pairs the rows take in turn: every channel, several types.
KINDS = (
    "email:sent",
    "email:delivered",
    "email:open",
    "email:click",
    "sms:sent",
    "sms:delivered",
    "contact:updated",
    "other:custom_event",
    "telegram:delivered",
    "viber:delivered",
    "webpush_desktop:delivered",
    "email:hard_bounce",
    "other:order",
    "contact:added_to_segment",
    "email:unsubscribed",
    "sms:click",
)
ORIGINS = ("transaction", "campaign", "ab_test", "workflow", None)
FILTER = {"channel": ("email",), "type": ("open", "click")}  # 2 of the 16 kinds
FEED_INDEXES = (
    "CREATE INDEX ix_activity_items_feed ON activity_items (contact_id, occurred_at DESC, id DESC)",
    "CREATE INDEX ix_activity_items_channel_feed "
    "ON activity_items (contact_id, channel, occurred_at DESC, id DESC)",
)


def _array(values) -> str:
    return "ARRAY[" + ", ".join("NULL" if v is None else f"'{v}'" for v in values) + "]"


def insert_rows(session: Session, first: int, last: int, contacts: int, busy: int) -> None:
    """Rows first..last of the load, made by the server (generate_series): row g is the
    busy contact's while g <= busy, else one of `contacts` others."""
    session.execute(
        text(f"""
        INSERT INTO activity_items (id, contact_id, occurred_at, channel, origin, type,
                                    message_id, details, recorded_at)
        SELECT lpad(to_hex(g), 26, '0'),
               CASE WHEN g <= :busy THEN :busy_contact
                    ELSE lpad('c' || (g % :contacts)::text, 26, '0') END,
               now() - ((g::bigint * 7919) % ({DAYS} * 86400)) * interval '1 second',
               split_part(k, ':', 1),
               ({_array(ORIGINS)})[1 + g % {len(ORIGINS)}],
               split_part(k, ':', 2),
               NULL, '{{}}'::json, now()
        FROM generate_series(:first, :last) AS g,
             LATERAL (SELECT ({_array(KINDS)})[1 + g % {len(KINDS)}] AS k) AS kind
    """),
        {
            "first": first,
            "last": last,
            "busy": busy,
            "busy_contact": BUSY_CONTACT,
            "contacts": contacts,
        },
    )


def load(sessions: sessionmaker, rows: int, say: Callable[[str], None] = print) -> None:
    """`rows` rows into an empty feed table; indexes made after the load (faster)."""
    busy = min(rows // 10, 1_000_000)
    contacts = max(rows // 200, 10)
    today = utcnow().date()
    with transaction(sessions) as session:
        ensure_partitions(session, today - timedelta(days=DAYS + 31), today)
        session.execute(text("DROP INDEX ix_activity_items_feed, ix_activity_items_channel_feed"))
    started = time.perf_counter()
    for first in range(1, rows + 1, CHUNK):
        with transaction(sessions) as session:
            insert_rows(session, first, min(rows, first + CHUNK - 1), contacts, busy)
        say(
            f"  loaded {min(rows, first + CHUNK - 1):,} rows "
            f"({time.perf_counter() - started:.0f} s)"
        )
    with transaction(sessions) as session:
        for statement in FEED_INDEXES:
            session.execute(text(statement))
    say(f"  indexed ({time.perf_counter() - started:.0f} s)")
    with transaction(sessions) as session:
        session.execute(text("ANALYZE activity_items"))


def bare_sql(query) -> tuple[str, dict]:
    compiled = query.compile(
        dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), compiled.params


def explain(session: Session, query) -> str:
    """PostgreSQL's plan of a query, as text."""
    sql, params = bare_sql(query)
    rows = session.connection().exec_driver_sql("EXPLAIN " + sql, params).all()
    return "\n".join(row[0] for row in rows)


def measure(sessions: sessionmaker, database_url: str, repeat: int) -> list[dict]:
    since = utcnow() - timedelta(days=30)
    cases = {
        "first page": ({}, {}),
        "filtered page": ({**FILTER, "since": since}, {**FILTER, "since": since}),
    }
    raw = psycopg2.connect(database_url)
    raw.autocommit = True
    results = []
    try:
        for name, (function_args, query_args) in cases.items():

            def through_function(function_args=function_args):
                with transaction(sessions) as session:
                    return feed(session, BUSY_CONTACT, limit=50, **function_args)

            sql, params = bare_sql(feed_query(BUSY_CONTACT, limit=51, **query_args))

            def through_sql(sql=sql, params=params):
                with raw.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()

            assert len(through_function()["data"]) == 50 and len(through_sql()) == 51
            function, bare = timed(through_function, repeat), timed(through_sql, repeat)
            results.append(
                {
                    "case": name,
                    "function": function,
                    "sql": bare,
                    "ratio_p50": function["p50"] / bare["p50"],
                    "ratio_p99": function["p99"] / bare["p99"],
                }
            )
    finally:
        raw.close()
    return results


def table(rows: int, results: list[dict]) -> str:
    lines = [
        f"activity feed, {rows:,} rows, PostgreSQL ({machine()})",
        "",
        "| case | function p50 ms | p99 ms | bare SQL p50 ms | p99 ms | ratio p50 | ratio p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['function']['p50']:.2f} | {r['function']['p99']:.2f} "
            f"| {r['sql']['p50']:.2f} | {r['sql']['p99']:.2f} "
            f"| {r['ratio_p50']:.2f} | {r['ratio_p99']:.2f} |"
        )
    lines += [
        "",
        "The feed's logic function (ORM, the page as the API gives it) against the "
        "bare SQL it runs; the busy contact holds rows/10 items.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=500, help="timed runs per case")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--database",
        help="a database a --keep run loaded: measure again "
        "without loading (--rows must say how many it holds)",
    )
    options = parser.parse_args(argv)
    url = options.database or fresh_database()
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        if not options.database:
            migrate_service({"DATABASE_URLS": {"activity": url}}, "activity")
            print(f"loading {options.rows:,} rows into {url.rsplit('/', 1)[1]}", flush=True)
            load(sessions, options.rows, lambda line: print(line, flush=True))
        with transaction(sessions) as session:
            plan = explain(
                session,
                feed_query(BUSY_CONTACT, since=utcnow() - timedelta(days=30), limit=51, **FILTER),
            )
        print("plan of the filtered page:\n" + plan)
        results = measure(sessions, url, options.repeat)
        report(
            "Activity feed",
            table(options.rows, results),
            to_results=options.record,
            as_json={"rows": options.rows, "results": results} if options.json else None,
        )
    finally:
        engine.dispose()
        if not (options.keep or options.database):
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
