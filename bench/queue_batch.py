"""Queueing a campaign: `messaging.queue_batch` of N messages (500 a call) to N contacts
on PostgreSQL, against a floor measured in the same run: the same rows written by hand
with psycopg2's multi-row INSERTs (messages, their history lines, the events and the
deliveries), one transaction a batch, nothing read, nothing rendered.

    .venv/bin/python -m bench.queue_batch [--messages 20000] [--suite] [--record] [--json]

Both services' logic runs in this process on a fresh database (a schema each, as
`plexus migrate` makes them): messaging's queue_batch with a contacts port that answers
`contacts_for_sending` from the contacts logic itself. What it leaves out is the RPC
hop (AMQP and JSON of the contacts' answer, ~0.5 MB a batch) and the broker: the outbox
relays publish after the commit, off this path.

`--suite` adds the real path: a running suite (gateway, contacts, messaging, each its own
process) on a fresh database and vhost, N contacts imported through the gateway, and
the campaign queued with queue_batch over RPC as the campaigns service calls it, one
call at a time and three in flight (messaging's workers and the contacts process then
overlap on the two cores)."""

from __future__ import annotations

import functools
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import psycopg2.extras
from sqlalchemy.orm import sessionmaker

from bench.batch_import import person
from bench.gateway_lookup import seed
from bench.harness import (
    arguments,
    drop_database,
    fresh_database,
    machine,
    report,
    temporary_vhost,
)
from plexus.db import make_engine, transaction
from plexus.ids import new_id
from plexus.migrations import migrate_service
from plexus.rpc import RpcClient
from plexus.timeutil import utcnow
from services.contacts.logic.addresses import SUPPRESSION_KEY
from services.contacts.logic.batch import batch_upsert
from services.contacts.logic.sending import contacts_for_sending
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.messaging_settings import put_settings
from services.messaging.logic.rendering import Limits
from services.messaging.logic.templates import create_template
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings
from tests.e2e.conftest import start_suite, stop_suite, suite_env

BATCH = 500
SETTINGS = Settings(
    tracking_base_url="https://t.example", tracking_secret="x" * 32, limits=Limits()
)
TEMPLATE = {
    "name": "autumn sale",
    "channel": "email",
    "subject": "{{ first_name }}, autumn prices for you",
    "body": "<p>Hi {{ first_name }} {{ last_name }},</p><p>{{ data.offer }} until Sunday.</p>"
    '<p><a href="https://shop.example/sale">Shop now</a></p>',
}


def sessions_of(url: str, service: str, info=None) -> sessionmaker:
    migrate_service({"DATABASE_URL": url}, service)
    return sessionmaker(make_engine(url, service), expire_on_commit=False, info=info)


def in_process_contacts(contacts_sessions: sessionmaker) -> ContactsPort:
    def call(service, method, *args):
        assert (service, method) == ("contacts", "contacts_for_sending")
        with transaction(contacts_sessions) as session:
            # Through JSON, as the RPC would hand it over.
            return json.loads(json.dumps(contacts_for_sending(session, *args)))

    return ContactsPort(call)


def make_contacts(contacts_sessions: sessionmaker, count: int) -> list[str]:
    ids = []
    for first in range(0, count, 1000):
        items = [person(n) for n in range(first, min(count, first + 1000))]
        with transaction(contacts_sessions) as session:
            answers = batch_upsert(session, items, "bench")["results"]
        ids += [a["id"] for a in answers]
    return ids


def items_for(contact_ids: list[str], template_id: str, campaign: str) -> list[dict]:
    return [
        {
            "key": f"campaign:{campaign}:{contact_id}",
            "contact_id": contact_id,
            "channel": "email",
            "template_id": template_id,
            "origin": "campaign",
            "trigger": {"campaign_id": campaign},
            "data": {"offer": "20% off"},
        }
        for contact_id in contact_ids
    ]


def through_queue_batch(messaging, contacts, contact_ids, template_id, campaign) -> dict:
    unit_of_work = functools.partial(transaction, messaging)
    items = items_for(contact_ids, template_id, campaign)
    started, refused = time.perf_counter(), 0
    for first in range(0, len(items), BATCH):
        answers = queue_batch(
            unit_of_work, contacts, SETTINGS, items[first : first + BATCH], "bench"
        )
        refused += sum(a["status"] != "queued" for a in answers)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "per_second": len(items) / seconds, "refused": refused}


def through_raw_inserts(url: str, contact_ids: list[str], template_id: str) -> dict:
    """The rows queue_batch writes, made in Python and written with execute_values."""
    connection = psycopg2.connect(url, options="-csearch_path=messaging")
    started = time.perf_counter()
    try:
        for first in range(0, len(contact_ids), BATCH):
            now = utcnow()
            messages, statuses, events, deliveries = [], [], [], []
            for contact_id in contact_ids[first : first + BATCH]:
                message_id = new_id()
                content = {"subject": "Import, autumn prices", "html": "<p>Hi Import</p>"}
                messages.append(
                    (
                        message_id,
                        contact_id,
                        "email",
                        "campaign",
                        template_id,
                        "queued",
                        json.dumps(content),
                        f"raw:{contact_id}",
                        json.dumps({"campaign_id": "raw"}),
                        now,
                        now,
                    )
                )
                statuses.append((message_id, "queued", now, json.dumps({"actor": "bench"})))
                body = {"event": "message_queued", "event_id": new_id(), "message_id": message_id}
                events.append(("message_queued", json.dumps(body), now))
                deliveries.append(("email", json.dumps({"message_id": message_id}), now))
            with connection.cursor() as cursor:
                psycopg2.extras.execute_values(
                    cursor,
                    "INSERT INTO messages (id, contact_id, channel, origin, template_id, status,"
                    " content, dedupe_key, trigger, created_at, updated_at) VALUES %s"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    messages,
                    page_size=BATCH,
                    fetch=True,
                )
                psycopg2.extras.execute_values(
                    cursor,
                    "INSERT INTO message_statuses (message_id, status, at, details) VALUES %s",
                    statuses,
                    page_size=BATCH,
                )
                for table, rows in (("outbox", events), ("delivery_outbox", deliveries)):
                    psycopg2.extras.execute_values(
                        cursor,
                        f"INSERT INTO {table} (event_type, payload, created_at) VALUES %s",
                        rows,
                        page_size=BATCH,
                    )
            connection.commit()
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "per_second": len(contact_ids) / seconds}


def through_suite(count: int, in_flight: tuple[int, ...] = (1, 3)) -> dict[int, dict]:
    """{calls in flight: timing} of queueing `count` messages (a campaign each) over RPC
    to a running suite."""
    with (
        temporary_vhost() as uri,
        tempfile.TemporaryDirectory() as data_dir,
    ):
        database_url = fresh_database()
        env = {**suite_env(uri, Path(data_dir), database_url), "PLEXUS_LOG_LEVEL": "WARNING"}
        suite = start_suite(env, Path(data_dir) / "suite.log", *ONLY, wait_for="/health")
        client = RpcClient(uri)
        try:
            contact_ids = [c["id"] for c in seed(suite, count)]
            made = suite.http().post(suite.url + "/v1/templates", json=TEMPLATE, timeout=30)
            made.raise_for_status()
            return {
                calls: _over_rpc(
                    client, items_for(contact_ids, made.json()["id"], f"s{calls}"), calls
                )
                for calls in in_flight
            }
        except Exception:
            print(suite.log.read_text()[-6000:], file=sys.stderr)  # why, before it goes
            raise
        finally:
            client.close()
            stop_suite(suite)
            drop_database(database_url)


ONLY = ("--only", "gateway", "--only", "contacts", "--only", "messaging")


def _over_rpc(client: RpcClient, items: list[dict], in_flight: int) -> dict:
    batches = [items[first : first + BATCH] for first in range(0, len(items), BATCH)]
    refused = []

    def queue(batch: list[dict]) -> None:
        answers = client.call("messaging", "queue_batch", (batch, "bench"), {}, 120)
        refused.append(sum(a["status"] != "queued" for a in answers))

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(queue, batches))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "per_second": len(items) / seconds, "refused": sum(refused)}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--suite", action="store_true", help="also through a running suite")
    args = parser.parse_args()
    url = fresh_database()
    try:
        contacts_sessions = sessions_of(url, "contacts", {SUPPRESSION_KEY: b"bench-secret"})
        messaging = sessions_of(url, "messaging")
        contact_ids = make_contacts(contacts_sessions, args.messages)
        with transaction(messaging) as session:
            template_id = create_template(session, TEMPLATE, "bench")["id"]
        contacts = in_process_contacts(contacts_sessions)
        plexus = through_queue_batch(messaging, contacts, contact_ids, template_id, "c1")
        floor = through_raw_inserts(url, contact_ids, template_id)
        again = through_queue_batch(messaging, contacts, contact_ids, template_id, "c1")
        with transaction(messaging) as session:  # a cap every contact stays under
            put_settings(session, {"frequency_caps": [{"max": 1000, "per_days": 7}]}, "bench")
        capped = through_queue_batch(messaging, contacts, contact_ids, template_id, "c2")
        for made in (contacts_sessions, messaging):
            made.kw["bind"].dispose()
    finally:
        drop_database(url)
    suite = through_suite(args.messages) if args.suite else {}
    ratio = plexus["per_second"] / floor["per_second"]
    rows = [
        ("queue_batch (validate, contacts, render, store, events, deliveries)", plexus),
        ("floor: the same four tables' rows by execute_values, one transaction a batch", floor),
        ("queue_batch again, every key stored (a retried campaign)", again),
        ("queue_batch under a frequency cap (contacts locked, counted a batch)", capped),
        *(
            (f"the running suite, over RPC, {calls} call(s) in flight", timing)
            for calls, timing in suite.items()
        ),
    ]
    lines = [
        f"| {name} | {r['seconds']:.2f} | {r['per_second']:,.0f} | "
        f"{r['per_second'] / floor['per_second']:.2f}x |"
        for name, r in rows
    ]
    projected = "; ".join(
        [
            f"{100_000 / plexus['per_second']:.0f} s in process",
            *(
                f"{100_000 / t['per_second']:.0f} s in the suite, {c} call(s) in flight"
                for c, t in suite.items()
            ),
        ]
    )
    table = f"""{machine()}; {args.messages:,} email messages to as many contacts, {BATCH} a
call, on PostgreSQL (bench/queue_batch.py: both services' logic in one process, the
contacts RPC's JSON round trip included, its AMQP hop not).

| path | seconds | messages/s | ratio to the floor |
|---|---|---|---|
{chr(10).join(lines)}

100,000 messages at these rates: {projected} (goal: under 60 s).
Refused: {plexus["refused"]} (first run), {again["refused"]} (again), \
{capped["refused"]} (capped)."""
    report(
        "Campaign queueing (queue_batch)",
        table,
        to_results=args.record,
        as_json={
            "plexus": plexus,
            "floor": floor,
            "again": again,
            "capped": capped,
            "suite": suite,
            "ratio": ratio,
        }
        if args.json
        else None,
    )


if __name__ == "__main__":
    main()
