"""The segments logic on a database made by its own migrations, once on SQLite and once
on PostgreSQL (the rules compile to the same SQL for both), each call in a transaction
of its own as the service runs it; a fixed clock, and a contacts service that knows the
contacts the test made."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from plexus.contract import events
from plexus.db import transaction
from plexus.ids import new_id
from plexus.timeutil import rfc3339
from services.segments.logic import projection
from services.segments.logic.compiler import Clock
from services.segments.models import Outbox
from tests.unit.database import migrated_sessions, runner

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CLOCK = Clock(NOW)


@pytest.fixture
def sessions(database_url):
    yield from migrated_sessions("segments", database_url)


@pytest.fixture
def run(sessions):
    return runner(sessions)


@pytest.fixture
def outbox(sessions):
    """outbox(): the membership changes recorded so far as (segment name, contact,
    change), one a contact (an event lists every contact a change moved)."""

    def recorded():
        with transaction(sessions) as session:
            rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
            return [
                (row.payload["segment_name"], contact_id, row.payload["change"])
                for row in rows
                for contact_id in row.payload["contact_ids"]
            ]

    return recorded


class FakeContacts:
    """The contacts service as segments asks it (get_contact), and the events it sends."""

    def __init__(self):
        self.contacts: dict[str, dict] = {}
        self.asked = 0

    def fetch(self, contact_id: str):
        self.asked += 1
        return self.contacts.get(contact_id)

    def make(self, **fields) -> dict:
        contact_id = fields.pop("id", None) or new_id()
        contact = {
            "id": contact_id,
            "status": "active",
            "gender": 0,
            "contact_score": 0,
            "categories": {},
            "variables": {},
            "blacklists": {},
            "subscriptions": {},
            "created_at": rfc3339(NOW),
            "updated_at": rfc3339(NOW),
            **fields,
        }
        self.contacts[contact_id] = contact
        return contact


@pytest.fixture
def contacts():
    return FakeContacts()


def event(kind: str, contact_id: str, **payload) -> dict:
    return {
        "event": kind,
        "event_id": new_id(),
        "occurred_at": rfc3339(NOW),
        "contact_id": contact_id,
        "actor": "test",
        **payload,
    }


def created(contact: dict) -> dict:
    return event(events.CONTACT_CREATED, contact["id"], contact=contact)


def activity(
    contact_id: str, channel="other", type="custom_event", name=None, origin=None, occurred_at=None
) -> dict:
    """activity_recorded with one item (activity lists a transaction's rows in one)."""
    moment = occurred_at or rfc3339(NOW)
    return {
        "event": events.ACTIVITY_RECORDED,
        "event_id": new_id(),
        "occurred_at": moment,
        "items": [
            {
                "item_id": new_id(),
                "contact_id": contact_id,
                "channel": channel,
                "type": type,
                "name": name,
                "origin": origin,
                "occurred_at": moment,
            }
        ],
    }


def one_contact_event(session, payload: dict, fetch, clock) -> int:
    """One contacts event as a batch of one (most tests follow one event at a time)."""
    return projection.on_contact_events(session, [payload], fetch, clock)


def one_activity_event(session, payload: dict, clock) -> int:
    return projection.on_activity_events(session, [payload], clock)
