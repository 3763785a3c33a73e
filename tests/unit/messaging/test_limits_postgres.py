"""The settings' SQL on PostgreSQL: two callers racing for one contact under a cap get
one message through (advisory locks), and held messages are released once by passes
running side by side (FOR UPDATE SKIP LOCKED)."""

import functools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine, transaction
from services.messaging.logic import holds, messaging_settings, templates
from services.messaging.logic.batches import queue_batch
from services.messaging.models import Base, DeliveryOutbox, Message
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

pytestmark = pytest.mark.postgres

PEOPLE = [make_contact(id=f"01contact{n:017d}") for n in range(50)]


@pytest.fixture
def pg_sessions(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def side_by_side(*calls):
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(slot, call):
        start.wait()
        results[slot] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def count(sessions, model):
    with transaction(sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_racing_batches_keep_every_contact_under_its_cap(pg_sessions):
    unit_of_work = functools.partial(transaction, pg_sessions)
    with transaction(pg_sessions) as session:
        messaging_settings.put_settings(
            session, {"frequency_caps": [{"max": 1, "per_days": 1}]}, "t"
        )
        template = templates.create_template(
            session, {"name": "t", "channel": "sms", "body": "Hi"}, "tester"
        )

    def campaign(name):
        items = [
            {
                "key": f"{name}:{p['id']}",
                "contact_id": p["id"],
                "channel": "sms",
                "template_id": template["id"],
                "origin": "campaign",
            }
            for p in PEOPLE
        ]
        return lambda: queue_batch(unit_of_work, FakeContacts(*PEOPLE), SETTINGS, items, name)

    first, second = side_by_side(campaign("a"), campaign("b"))
    queued = [a for a in first + second if a["status"] == "queued"]
    assert len(queued) == len(PEOPLE) == count(pg_sessions, Message)
    assert {a["contact_id"] for a in queued} == {p["id"] for p in PEOPLE}


def test_release_passes_side_by_side_hand_on_each_message_once(pg_sessions):
    unit_of_work = functools.partial(transaction, pg_sessions)
    now = datetime.now(UTC)
    quiet = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
    }
    with transaction(pg_sessions) as session:
        messaging_settings.put_settings(session, {"quiet_hours": quiet}, "t")
        template = templates.create_template(
            session, {"name": "t", "channel": "sms", "body": "Hi"}, "tester"
        )
    items = [
        {
            "key": p["id"],
            "contact_id": p["id"],
            "channel": "sms",
            "template_id": template["id"],
            "origin": "workflow",
        }
        for p in PEOPLE
    ]
    answers = queue_batch(unit_of_work, FakeContacts(*PEOPLE), SETTINGS, items, "w")
    assert all(a["held_until"] for a in answers) and count(pg_sessions, DeliveryOutbox) == 0
    with transaction(pg_sessions) as session:
        session.execute(update(Message).values(held_until=now - timedelta(seconds=1)))

    def release():
        with transaction(pg_sessions) as session:
            return holds.release_due(session, limit=10)

    def drain():
        released = 0
        while n := release():
            released += n
        return released

    assert sum(side_by_side(drain, drain, drain)) == len(PEOPLE)
    assert count(pg_sessions, DeliveryOutbox) == len(PEOPLE)
