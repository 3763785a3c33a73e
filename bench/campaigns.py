"""A campaign to N members (default 100,000) on PostgreSQL, from start to every member
queued, against a floor measured in the same run: COPY of the same number of message
rows into a table shaped like messaging's `messages`.

    .venv/bin/python -m bench.campaigns [--members 100000] [--no-suite] [--record] [--json]

The real path first: a running suite (gateway, contacts, segments, messaging, campaigns,
each its own process, on RabbitMQ and PostgreSQL); the contacts imported through the
API, a segment of all of them, and a campaign started through the API and timed until
its stats count every member queued or refused, with the CPU each process spent on it.
Activity and the senders do not run: they take what messaging publishes after queueing,
and on two cores they would only share the machine.

Then the logic's own cost (`--no-suite`: this alone): the services' logic in this
process, one chunk at a time, on a fresh database (a schema each, as `plexus migrate`
makes them), each call through JSON as the RPC would hand it over: campaigns' audience
loader and dispatcher (services/campaigns/logic), messaging's queue_batch, contacts'
contacts_for_sending. The segment's `members` pages are answered from the list of
contacts (segments' own evaluation is bench/segments.py's); the AMQP hops are left out,
and so is the overlap of the services' processes (CAMPAIGNS.in_flight)."""

from __future__ import annotations

import bisect
import csv
import functools
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from sqlalchemy.orm import sessionmaker

from bench.harness import (
    arguments,
    drop_database,
    fresh_database,
    machine,
    report,
    temporary_vhost,
)
from bench.propagation import BATCH, cpu_seconds, get, person, post_batches, wait_until
from bench.queue_batch import SETTINGS, TEMPLATE, in_process_contacts, make_contacts, sessions_of
from plexus.db import transaction
from plexus.ids import new_id
from plexus.timeutil import utcnow
from services.campaigns.logic import definitions, dispatch, starting
from services.campaigns.ports import MEMBERS_PAGE, MessagingPort
from services.campaigns.settings import IN_FLIGHT, MAX_CHUNK
from services.contacts.logic.addresses import SUPPRESSION_KEY
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.templates import create_template
from tests.e2e.conftest import start_suite, stop_suite, suite_env

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


SUITE = ("gateway", "contacts", "segments", "messaging", "campaigns")


def _post(suite, path: str, body: dict | None = None) -> dict:
    answer = suite.http().post(suite.url + path, json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()


def campaign_through_suite(suite, count: int) -> dict:
    """`count` contacts imported, a segment of them all, then a campaign to it timed
    from its start to every member counted in its stats."""
    for path in ("/v1/contacts", "/v1/segments", "/v1/campaigns"):  # each service answers
        wait_until(
            lambda p=path: suite.http().get(suite.url + p, timeout=15).status_code == 200,
            60,
            f"{path} answering",
            every=0.2,
        )
    segment = _post(suite, "/v1/segments", {"name": "all", "rule": {"subscribed": "email"}})
    people = [person(n) for n in range(count)]
    post_batches(
        suite,
        "/v1/contacts/batch",
        "contacts",
        [people[i : i + BATCH] for i in range(0, count, BATCH)],
    )

    def members() -> int:
        return get(suite, f"/v1/segments/{segment['id']}")["member_count"]

    wait_until(lambda: members() == count, 3600, "every contact in the segment")
    template = _post(suite, "/v1/templates", TEMPLATE)
    campaign = _post(
        suite,
        "/v1/campaigns",
        {
            "name": "bench",
            "channel": "email",
            "template_id": template["id"],
            "segment_id": segment["id"],
        },
    )
    path = f"/v1/campaigns/{campaign['id']}"
    cpu_before = cpu_seconds(suite.env["PLEXUS_DATA_DIR"])
    started = time.perf_counter()
    _post(suite, path + "/start")

    def stats() -> dict:
        return get(suite, path)["stats"]

    def all_counted() -> bool:
        now = stats()
        return now["audience"] == count and now["queued"] + sum(now["refused"].values()) == count

    # Polled twice a second: each poll is a request and an RPC, CPU the campaign needs.
    wait_until(all_counted, 3600, "every member queued or refused", every=0.5)
    seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(suite.env["PLEXUS_DATA_DIR"])
    done = stats()
    return {
        "seconds": seconds,
        "per_second": count / seconds,
        "queued": done["queued"],
        "refused": sum(done["refused"].values()),
        "cpu": {name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1) for name in cpu_after},
    }


def through_suite(count: int, in_flight: int = IN_FLIGHT) -> dict:
    with temporary_vhost() as uri, tempfile.TemporaryDirectory() as data_dir:
        database_url = fresh_database()
        env = {
            **suite_env(uri, Path(data_dir), database_url),
            "PLEXUS_LOG_LEVEL": "WARNING",
            "PLEXUS_CAMPAIGNS_IN_FLIGHT": str(in_flight),
        }
        only = [arg for service in SUITE for arg in ("--only", service)]
        suite = start_suite(env, Path(data_dir) / "suite.log", *only, wait_for="/ready")
        try:
            return campaign_through_suite(suite, count)
        except Exception:
            print(suite.log.read_text()[-6000:], file=sys.stderr)  # why, before it goes
            raise
        finally:
            stop_suite(suite)
            drop_database(database_url)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--no-suite", action="store_true", help="the logic in this process only, no suite"
    )
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
    real = None if args.no_suite else through_suite(args.members)
    ratio = plexus["seconds"] / floor["seconds"]
    table = f"""{machine()}; a campaign to {args.members:,} members on PostgreSQL, start to
every member queued (bench/campaigns.py): through a running suite, and the logic alone
(campaigns' loader and dispatcher, messaging's queue_batch and contacts'
contacts_for_sending in one process, one chunk of {MAX_CHUNK} at a time, through JSON; no
AMQP hop; the segment's members pages from a list).

| path | seconds | members/s | ratio to COPY |
|---|---|---|---|
| the logic alone: audience read and written ({plexus["audience_seconds"]:.1f} s), then dispatched: queue_batch (render, store, events, deliveries) and each outcome recorded | {plexus["seconds"]:.2f} | {plexus["per_second"]:,.0f} | {ratio:.1f}x |
{suite_row(real, floor)}| floor: COPY of as many rows into a table like `messages` | {floor["seconds"]:.2f} | {floor["per_second"]:,.0f} | 1x |

Queued {plexus["queued"]:,}, refused {plexus["refused"]:,}.{suite_cpu(real)}"""  # noqa: E501
    report(
        "Campaign to every member (campaigns)",
        table,
        to_results=args.record,
        as_json={"plexus": plexus, "suite": real, "floor": floor, "ratio": ratio}
        if args.json
        else None,
    )


def suite_row(real: dict | None, floor: dict) -> str:
    if real is None:
        return ""
    return (
        "| the running suite: started through the API until its stats count every member "
        f"| {real['seconds']:.2f} | {real['per_second']:,.0f} "
        f"| {real['seconds'] / floor['seconds']:.1f}x |\n"
    )


def suite_cpu(real: dict | None) -> str:
    if real is None:
        return ""
    spent = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(real["cpu"].items()))
    return f" In the suite: queued {real['queued']:,}, refused {real['refused']:,}; CPU {spent}."


if __name__ == "__main__":
    main()
