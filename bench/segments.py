"""Segments on PostgreSQL at volume: N contacts (default 1,000,000) loaded into the
service's projection with generate_series, then

  1. full evaluation of a rule of five conditions, as the service compiles it, against
     the SQL a person would write for it (same run; the ratio), and the whole of
     creating that segment (evaluation, membership rows, one event per member);
  2. the latency from a contact update (contact_updated published to the broker) to the
     segment_membership_changed event the service publishes for it, p50 and p99: the
     segments service runs in this process, in a nameko container, on a vhost of its own.

    .venv/bin/python -m bench.segments --contacts 100000
    PLEXUS_TEST_POSTGRES / PLEXUS_TEST_BROKER name the servers (bench/harness.py)."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from datetime import timedelta  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench.harness import (  # noqa: E402
    drop_database,
    fresh_database,
    machine,
    percentile,
    record,
    temporary_vhost,
)
from plexus.db import make_engine, transaction  # noqa: E402
from plexus.migrations import migrate_service  # noqa: E402
from plexus.timeutil import utcnow  # noqa: E402
from services.segments.logic import definitions  # noqa: E402
from services.segments.logic.compiler import Clock  # noqa: E402
from services.segments.logic.membership import matching  # noqa: E402

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

LANGUAGES = ("uk", "en", "pl", "de", "fr")
# Five conditions: a field, a number, a subscription, a black list, activity in a window.
RULE = {
    "all": [
        {"field": "language", "op": "eq", "value": "uk"},
        {"field": "contact_score", "op": "gte", "value": 10},
        {"subscribed": "email"},
        {"not": {"blacklisted": "email"}},
        {"activity": {"channel": "email", "type": "open", "within_days": 30, "min_count": 2}},
    ]
}
HAND_WRITTEN = """
SELECT count(*) FROM profiles p
WHERE p.language = 'uk' AND p.contact_score >= 10
  AND EXISTS (SELECT 1 FROM profile_flags f WHERE f.contact_id = p.contact_id
              AND f.kind = 'subscribed' AND f.key = 'email')
  AND NOT EXISTS (SELECT 1 FROM profile_flags f WHERE f.contact_id = p.contact_id
                  AND f.kind = 'blacklisted' AND f.key = 'email')
  AND (SELECT sum(a.count) FROM activity_counts a WHERE a.contact_id = p.contact_id
       AND a.channel = 'email' AND a.type = 'open' AND a.day >= :since) >= 2
"""
LOAD = (
    # Contact g: a language in turn, a score 0..19, created over the last 400 days.
    """INSERT INTO profiles (contact_id, email, language, contact_score, status, country,
                             birthday, birthday_md, created_at, updated_at)
       SELECT lpad(g::text, 26, '0'), 'c' || g || '@example.com',
              (ARRAY['uk','en','pl','de','fr'])[1 + g % 5], (g * 7) % 20, 'active', 'UA',
              date '1980-01-01' + (g % 10000), to_char(date '1980-01-01' + (g % 10000),
              'MM-DD'), now() - (g % 400) * interval '1 day', now()
       FROM generate_series(1, :n) AS g""",
    # 3 in 4 subscribed to email, 1 in 20 black-listed.
    """INSERT INTO profile_flags (contact_id, kind, key)
       SELECT lpad(g::text, 26, '0'), 'subscribed', 'email'
       FROM generate_series(1, :n) AS g WHERE g % 4 <> 0""",
    """INSERT INTO profile_flags (contact_id, kind, key)
       SELECT lpad(g::text, 26, '0'), 'blacklisted', 'email'
       FROM generate_series(1, :n) AS g WHERE g % 20 = 0""",
    # Two days of email activity per contact over the last 60 days, 1..3 opens a day.
    """INSERT INTO activity_counts (contact_id, day, channel, type, name, origin, count)
       SELECT lpad(g::text, 26, '0'), current_date - ((g + d * 13) % 60), 'email', 'open',
              '', 'campaign', 1 + (g / 5 + d) % 3
       FROM generate_series(1, :n) AS g, (VALUES (0), (1)) AS days(d)""",
    "ANALYZE",
)


def load(sessions: sessionmaker, contacts: int) -> float:
    started = time.perf_counter()
    for statement in LOAD:
        with transaction(sessions) as session:
            session.execute(text(statement), {"n": contacts})
    return time.perf_counter() - started


def _seconds(action, repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        begun = time.perf_counter()
        action()
        samples.append(time.perf_counter() - begun)
    return {"p50": percentile(samples, 0.5), "best": min(samples)}


def evaluation(sessions: sessionmaker, repeat: int) -> dict:
    clock = Clock(utcnow())
    since = clock.today - timedelta(days=30)

    def compiled():
        with transaction(sessions) as session:
            return session.scalar(
                select(func.count()).select_from(matching(RULE, clock).subquery())
            )

    def hand():
        with transaction(sessions) as session:
            return session.scalar(text(HAND_WRITTEN), {"since": since})

    members = compiled()
    assert members == hand(), "the compiled rule and the hand-written SQL disagree"
    # Alternate the two so that caches warm both alike.
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_seconds(compiled, 1)["p50"])
        theirs.append(_seconds(hand, 1)["p50"])
    started = time.perf_counter()
    with transaction(sessions) as session:
        made = definitions.create_segment(session, {"name": "bench", "rule": RULE}, "bench", clock)
    creation = time.perf_counter() - started
    assert made["member_count"] == members
    return {
        "members": members,
        "compiled_s": percentile(ours, 0.5),
        "hand_s": percentile(theirs, 0.5),
        "ratio": percentile(ours, 0.5) / percentile(theirs, 0.5),
        "create_segment_s": creation,
        "segment_id": made["id"],
    }


def latency(database_url: str, samples: int) -> dict:
    """contact_updated in, segment_membership_changed out, through the real service."""
    import nameko
    from kombu import Connection, Queue
    from nameko.amqp.publish import Publisher
    from nameko.containers import ServiceContainer
    from nameko.standalone.events import get_event_exchange

    from plexus.consumer import declare_topology
    from plexus.contract import events
    from plexus.ids import new_id
    from plexus.timeutil import rfc3339
    from services.segments.entrypoints import SegmentsService

    # Contacts 5, 10, 15...: score (g*7)%20 >= 10 for some; pick those the rule holds
    # for but language: g % 5 == 0 speaks uk already, so use g % 5 == 1 (en) and flip.
    engine = make_engine(database_url)
    with engine.connect() as connection:
        picked = [
            row[0]
            for row in connection.execute(
                text("""
            SELECT p.contact_id FROM profiles p WHERE p.language = 'en'
              AND p.contact_score >= 10
              AND EXISTS (SELECT 1 FROM profile_flags f WHERE f.contact_id = p.contact_id
                          AND f.kind = 'subscribed' AND f.key = 'email')
              AND NOT EXISTS (SELECT 1 FROM profile_flags f
                  WHERE f.contact_id = p.contact_id AND f.kind = 'blacklisted')
              AND (SELECT sum(a.count) FROM activity_counts a
                   WHERE a.contact_id = p.contact_id AND a.day >= current_date - 30) >= 2
            LIMIT :n"""),
                {"n": samples},
            )
        ]
    engine.dispose()
    with temporary_vhost() as amqp_uri:
        config = {
            "AMQP_URI": amqp_uri,
            "DATABASE_URL": None,
            "DATABASE_URLS": {"segments": database_url},
            "METRICS_PORTS": {},
            "RPC_TIMEOUT": 5,
            "OUTBOX_SWEEP_INTERVAL": 1,
            "max_workers": 10,
            "SEGMENTS": {"periodic_pass_seconds": 3600},
        }
        with nameko.config.patch(config, clear=True):
            declare_topology(amqp_uri)
            container = ServiceContainer(SegmentsService)
            container.start()
            try:
                return _measure(
                    amqp_uri,
                    picked,
                    Connection,
                    Queue,
                    Publisher,
                    get_event_exchange,
                    events,
                    new_id,
                    rfc3339,
                )
            finally:
                container.stop()


def _measure(
    amqp_uri, picked, Connection, Queue, Publisher, get_event_exchange, events, new_id, rfc3339
) -> dict:
    out = Queue(
        "bench.segments.out",
        get_event_exchange("segments"),
        routing_key=events.SEGMENT_MEMBERSHIP_CHANGED,
        exclusive=True,
    )
    publisher = Publisher(amqp_uri, serializer="json")
    exchange = get_event_exchange("contacts")
    waits = []
    with Connection(amqp_uri) as connection:
        listener = connection.SimpleQueue(out)
        for contact_id in picked:
            started = time.perf_counter()
            publisher.publish(
                {
                    "event": events.CONTACT_UPDATED,
                    "event_id": new_id(),
                    "occurred_at": rfc3339(utcnow()),
                    "actor": "bench",
                    "contact_id": contact_id,
                    "changed": {"language": "uk"},
                },
                exchange=exchange,
                routing_key=events.CONTACT_UPDATED,
            )
            while True:
                message = listener.get(timeout=10)
                message.ack()
                if contact_id in message.payload["contact_ids"]:
                    break
            waits.append((time.perf_counter() - started) * 1000)
        listener.close()
    return {
        "samples": len(waits),
        "p50_ms": percentile(waits, 0.5),
        "p99_ms": percentile(waits, 0.99),
    }


def report(contacts: int, loaded: float, found: dict, waits: dict) -> str:
    return f"""Segments, {contacts:,} contacts in the projection ({machine()}); \
loaded in {loaded:.0f} s

Rule of five conditions (language, score, subscribed, not black-listed, email opens in
30 days >= 2): {found["members"]:,} members.

| measure | value |
|---|---|
| full evaluation, compiled rule (p50) | {found["compiled_s"] * 1000:.0f} ms |
| full evaluation, hand-written SQL (p50) | {found["hand_s"] * 1000:.0f} ms |
| ratio compiled / hand-written | {found["ratio"]:.2f} |
| create the segment (evaluate, insert members, one event each) | \
{found["create_segment_s"]:.1f} s |
| contact update -> membership event, p50 ({waits["samples"]} updates) | \
{waits["p50_ms"]:.1f} ms |
| contact update -> membership event, p99 | {waits["p99_ms"]:.1f} ms |
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed full evaluations")
    parser.add_argument("--updates", type=int, default=300, help="latency samples")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.md")
    options = parser.parse_args(argv)
    database_url = fresh_database()
    try:
        migrate_service({"DATABASE_URLS": {"segments": database_url}}, "segments")
        engine = make_engine(database_url)
        sessions = sessionmaker(engine, expire_on_commit=False)
        print(f"loading {options.contacts:,} contacts...", flush=True)
        loaded = load(sessions, options.contacts)
        found = evaluation(sessions, options.repeat)
        engine.dispose()
        waits = latency(database_url, options.updates)
        table = report(options.contacts, loaded, found, waits)
        print(table)
        if not options.no_record:
            record("Segments", table)
        if options.json:
            found.pop("segment_id")
            print(json.dumps({"contacts": options.contacts, "evaluation": found, "latency": waits}))
    finally:
        drop_database(database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
