"""The activity logic on a real database made by its own migrations (SQLite in a temp
dir; the PostgreSQL tests override `database_url`), each call in its own transaction as
the service runs it, with a contact directory that knows a few contacts."""

import pytest
from sqlalchemy import select

from plexus.db import transaction
from plexus.errors import Invalid, NotFound
from plexus.ids import new_id
from services.activity.models import Outbox
from tests.unit.database import migrated_sessions, runner

ACTOR = "shop"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'activity.db'}"


@pytest.fixture
def sessions(database_url):
    """Sessions on the database as `plexus migrate` makes it (partitioned on PostgreSQL)."""
    yield from migrated_sessions("activity", database_url)


@pytest.fixture
def run(sessions):
    return runner(sessions)


@pytest.fixture
def outbox(sessions):
    """outbox(name): the payloads of that event recorded so far, oldest first."""

    def recorded(name):
        with transaction(sessions) as session:
            rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
            return [row.payload for row in rows if row.event_type == name]

    return recorded


class FakeDirectory:
    """The contacts service as the activity service asks it: ids and identifiers."""

    def __init__(self):
        self.contacts: dict[str, dict] = {}
        self.asked = 0
        self.created: list[tuple[str, str, str]] = []

    def add(self, **identifiers) -> str:
        contact_id = new_id()
        self.contacts[contact_id] = {"id": contact_id, **identifiers}
        return contact_id

    def _one(self, ref: dict):
        if ref.get("phone") == "not a phone":
            return Invalid("invalid phone", {"phone": ["not a valid phone number"]})
        for contact in self.contacts.values():
            if all(contact.get(key) == value for key, value in ref.items()):
                return contact["id"]
        return NotFound("no such contact")

    def resolve_many(self, refs, creating=None, actor="system"):
        """As contacts answers: with `creating`, a ref by identifiers naming no contact
        makes one (kept in `created`, with how it arrived)."""
        self.asked += len(refs)
        answers = []
        for ref, via in zip(refs, creating or [None] * len(refs), strict=True):
            found = self._one(ref)
            if isinstance(found, NotFound) and via and not ref.get("id"):
                found = self.add(**ref)
                self.created.append((found, via, actor))
            answers.append(found)
        return answers


@pytest.fixture
def directory():
    return FakeDirectory()


def contact_event(
    name: str, contact_id: str, occurred_at: str = "2026-11-20T10:00:00Z", **payload
) -> dict:
    """A contacts event as it arrives from the bus."""
    return {
        "event": name,
        "event_id": new_id(),
        "occurred_at": occurred_at,
        "actor": "crm",
        "contact_id": contact_id,
        **payload,
    }
