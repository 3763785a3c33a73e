"""A campaign to N members (default 100,000) on PostgreSQL, from start to every member
queued, against a floor measured in the same run: COPY of the same number of message
rows into a table shaped like messaging's `messages`.

    .venv/bin/python -m bench.campaigns [--members 100000] [--record] [--json]

The services' logic runs in this process on a fresh database (a schema each, as
`plexus migrate` makes them), each call through JSON as the RPC would hand it over:
campaigns' audience loader and dispatcher (services/campaigns/logic), messaging's
queue_batch, contacts' contacts_for_sending. The segment's `members` pages are answered
from the list of contacts (segments' own evaluation is bench/segments.py's); the AMQP
hops are left out."""

from __future__ import annotations

import bisect
import csv
import functools
import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
from sqlalchemy.orm import sessionmaker

from bench.harness import arguments, drop_database, fresh_database, machine, report
from bench.queue_batch import SETTINGS, TEMPLATE, in_process_contacts, make_contacts, sessions_of
from plexus.db import transaction
from plexus.ids import new_id
from plexus.timeutil import utcnow
from services.campaigns.logic import definitions, dispatch, starting
from services.campaigns.ports import MEMBERS_PAGE, MessagingPort
from services.campaigns.settings import MAX_CHUNK
from services.contacts.logic.addresses import SUPPRESSION_KEY
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.templates import create_template

ZONE = "UTC"


class ListedSegment:
    """segments.members over a list: pages of 200 ids in id order."""

    def __init__(self, contact_ids: list[str]):
        self.ids = sorted(contact_ids)

    def members_page(self, _segment_id: str, cursor: str | None) -> dict:
        start = 0 if cursor is None else bisect.bisect_right(self.ids, cursor)
        page = self.ids[start : start + MEMBERS_PAGE]
        more = start + MEMBERS_PAGE < len(self.ids)
        return json.loads(json.dumps({"data": page, "next_cursor": page[-1] if more else None}))


def in_process_messaging(messaging_sessions, contacts) -> MessagingPort:
    unit_of_work = functools.partial(transaction, messaging_sessions)

    def call(service, method, *args):
        assert (service, method) == ("messaging", "queue_batch")
        items, actor = json.loads(json.dumps(args))
        return json.loads(json.dumps(queue_batch(unit_of_work, contacts, SETTINGS, items, actor)))

    return MessagingPort(call)


def run_campaign(campaigns_sessions, segment, contacts, messaging, template_id: str) -> dict:
    unit_of_work = functools.partial(transaction, campaigns_sessions)
    values = {
        "name": "bench",
        "channel": "email",
        "template_id": template_id,
        "segment_id": "listed",
        "category": None,
        "schedule": {},
        "throttle_per_minute": None,
        "ab": None,
    }
    with unit_of_work() as session:
        campaign_id = definitions.create_campaign(session, values, "bench")["id"]
    started = time.perf_counter()
    with unit_of_work() as session:
        starting.act(session, campaign_id, "start", utcnow())
    starting.load_audiences(unit_of_work, segment, contacts, ZONE)
    loaded = time.perf_counter() - started
    while True:
        dispatch.dispatch_pass(unit_of_work, messaging, utcnow(), MAX_CHUNK, ZONE)
        with unit_of_work() as session:
            found = definitions.read_campaign(session, campaign_id)
        if found["status"] == "finished":
            break
    seconds = time.perf_counter() - started
    stats = found["stats"]
    return {
        "seconds": seconds,
        "audience_seconds": loaded,
        "per_second": stats["audience"] / seconds,
        "queued": stats["queued"],
        "refused": sum(stats["refused"].values()),
    }


def through_copy(url: str, contact_ids: list[str], template_id: str) -> dict:
    """The same number of message rows, made in Python and written with one COPY into a
    table like messaging's `messages` (its indexes included)."""
    connection = psycopg2.connect(url, options="-csearch_path=messaging")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE copy_floor (LIKE messages INCLUDING ALL)")
        connection.commit()
        started = time.perf_counter()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        now = utcnow().isoformat()
        content = json.dumps({"subject": "autumn prices", "html": "<p>Hi</p>"})
        for contact_id in contact_ids:
            writer.writerow(
                [new_id(), contact_id, "email", "campaign", template_id, "queued", content,
                 f"copy:{contact_id}", json.dumps({"campaign_id": "copy"}), now, now]
            )  # fmt: skip
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                "COPY copy_floor (id, contact_id, channel, origin, template_id, status, content,"
                " dedupe_key, trigger, created_at, updated_at) FROM STDIN WITH (FORMAT csv)",
                buffer,
            )
        connection.commit()
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    return {"seconds": seconds, "per_second": len(contact_ids) / seconds}


@dataclass
class InProcess:
    """contacts, messaging and campaigns on one database, called in this process."""

    campaigns_sessions: sessionmaker
    contact_ids: list[str]
    template_id: str
    contacts: object
    messaging: MessagingPort


@contextmanager
def in_process_services(url: str, count: int) -> Iterator[InProcess]:
    """`count` contacts subscribed to email and an email template, on `url`'s schemas."""
    made = []
    try:
        contacts_sessions = sessions_of(url, "contacts", {SUPPRESSION_KEY: b"bench-secret"})
        messaging_sessions = sessions_of(url, "messaging")
        campaigns_sessions = sessions_of(url, "campaigns")
        made = [contacts_sessions, messaging_sessions, campaigns_sessions]
        contact_ids = make_contacts(contacts_sessions, count)
        with transaction(messaging_sessions) as session:
            template_id = create_template(session, TEMPLATE, "bench")["id"]
        contacts_port = in_process_contacts(contacts_sessions)
        messaging = in_process_messaging(messaging_sessions, contacts_port)
        yield InProcess(campaigns_sessions, contact_ids, template_id, contacts_port, messaging)
    finally:
        for sessions in made:
            sessions.kw["bind"].dispose()


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    url = fresh_database()
    try:
        with in_process_services(url, args.members) as suite:
            plexus = run_campaign(
                suite.campaigns_sessions,
                ListedSegment(suite.contact_ids),
                None,
                suite.messaging,
                suite.template_id,
            )
            floor = through_copy(url, suite.contact_ids, suite.template_id)
    finally:
        drop_database(url)
    ratio = plexus["seconds"] / floor["seconds"]
    table = f"""{machine()}; a campaign to {args.members:,} members on PostgreSQL, start to
`finished` (bench/campaigns.py: campaigns' loader and dispatcher, messaging's queue_batch
and contacts' contacts_for_sending in one process, {MAX_CHUNK} a call, through JSON; no
AMQP hop; the segment's members pages from a list).

| path | seconds | members/s | ratio to COPY |
|---|---|---|---|
| campaign: audience read and written ({plexus["audience_seconds"]:.1f} s), then dispatched: queue_batch (render, store, events, deliveries) and each outcome recorded | {plexus["seconds"]:.2f} | {plexus["per_second"]:,.0f} | {ratio:.1f}x |
| floor: COPY of as many rows into a table like `messages` | {floor["seconds"]:.2f} | {floor["per_second"]:,.0f} | 1x |

Queued {plexus["queued"]:,}, refused {plexus["refused"]:,}."""  # noqa: E501
    report(
        "Campaign to every member (campaigns)",
        table,
        to_results=args.record,
        as_json={"plexus": plexus, "floor": floor, "ratio": ratio} if args.json else None,
    )


if __name__ == "__main__":
    main()
