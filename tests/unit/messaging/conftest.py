"""The messaging logic on a real SQLite file, a fake contacts service answering its
RPCs, and the two outboxes to look into."""

import functools

import pytest
from sqlalchemy import select

from plexus.contract.contacts import SENDING_FIELDS
from plexus.db import transaction
from plexus.errors import NotFound
from services.messaging.logic.rendering import Limits
from services.messaging.models import Base, DeliveryOutbox, Outbox
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings
from tests.unit.database import runner, sqlite_sessions

SETTINGS = Settings(
    tracking_base_url="https://t.example", tracking_secret="s3cret", limits=Limits()
)


def make_contact(**overrides) -> dict:
    """A contact resource as the contacts service answers it: reachable everywhere."""
    contact = {
        "id": "01contact00000000000000000",
        "user_id": "u1",
        "email": "ann@x.example",
        "phone": "+380501234567",
        "first_name": "Ann",
        "status": "active",
        "categories": {"news": True},
        "blacklists": {"email": None, "phone": None, "viber": None},
        "subscriptions": {
            c: {"status": "subscribed"}
            for c in ("email", "sms", "telegram", "viber", "webpush_desktop", "webpush_mobile")
        },
        "channels": {
            "telegram": {"chat_id": "42"},
            "viber": {"user_id": "vb1"},
            "webpush": [{"id": "w1", "device": "desktop", "endpoint": "https://p"}],
        },
    }
    contact.update(overrides)
    return contact


class FakeContacts(ContactsPort):
    """The contacts port, answering as the contacts service would; records the calls."""

    def __init__(self, contact: dict, *more: dict):
        super().__init__(self.answer)
        self.contact = contact
        self.people = {c["id"]: c for c in (contact, *more)}
        self.calls: list[tuple] = []

    def variables(self, contact: dict) -> list[dict]:
        return [
            {"name": "first_name", "kind": "field", "value": contact["first_name"]},
            {"name": "address.city", "kind": "field", "value": "Kyiv"},
            {"name": "plan", "kind": "variable", "value": "gold"},
            {"name": "shop_name", "kind": "account", "value": "Shop & Co"},
        ]

    def answer(self, service, method, *args, **kwargs):
        assert service == "contacts"
        self.calls.append((method, args, kwargs))
        if method == "get_contact":
            if args[0] not in self.people:
                raise NotFound("no contact")
            return self.people[args[0]]
        if method == "find_contacts":
            hit = all(self.contact.get(k) == v for k, v in kwargs.items() if k != "limit")
            return {"data": [self.contact] if hit else [], "next_cursor": None}
        if method == "contact_variables":
            return {"data": self.variables(self.people[args[0]])}
        if method == "contacts_for_sending":
            return {
                i: {
                    "contact": {k: self.people[i].get(k) for k in SENDING_FIELDS},
                    "variables": {v["name"]: v["value"] for v in self.variables(self.people[i])},
                }
                for i in args[0]
                if i in self.people
            }
        return None


@pytest.fixture
def sessions(tmp_path):
    factory = sqlite_sessions(tmp_path / "messaging.db", Base)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def unit_of_work(sessions):
    """What the service hands the logic as `transaction`."""
    return functools.partial(transaction, sessions)


@pytest.fixture
def run(sessions):
    return runner(sessions)


@pytest.fixture
def recorded(sessions):
    """recorded(Outbox) / recorded(DeliveryOutbox): [(type, payload)], oldest first."""

    def rows(model=Outbox):
        with transaction(sessions) as session:
            return [
                (r.event_type, r.payload)
                for r in session.scalars(select(model).order_by(model.id)).all()
            ]

    return rows


__all__ = ["DeliveryOutbox", "FakeContacts", "SETTINGS", "make_contact"]
