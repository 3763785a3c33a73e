"""The contacts service in a real nameko container on the real broker: its RPCs answer,
its errors cross the wire as plexus errors, and its events leave through the outbox
after the commit."""

import uuid
from pathlib import Path

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcClient

from plexus.errors import Conflict, Invalid, NotFound
from plexus.migrations import migrate_service
from services.contacts.entrypoints import ContactsService

ACTOR = "interface-test"


@pytest.fixture
def contacts_service(service_config, container_factory):
    migrate_service(service_config, "contacts")
    container = container_factory(ContactsService)
    container.start()
    return container


@pytest.fixture
def rpc(contacts_service):
    with ClusterRpcClient(timeout=10) as client:
        yield client.contacts


class EventQueue:
    """A queue bound to the contacts events exchange, as another service's would be."""

    def __init__(self, bound_queue):
        self.queue = bound_queue

    def get(self, timeout: float = 10.0):
        """(event name, payload) of the next event, or None after `timeout` seconds."""
        with eventlet.Timeout(timeout, False):
            while True:
                message = self.queue.get(no_ack=True)
                if message is not None:
                    return message.delivery_info["routing_key"], message.payload
                eventlet.sleep(0.05)
        return None


@pytest.fixture
def contact_events(service_config):
    with Connection(service_config["AMQP_URI"]) as connection:
        queue = Queue(
            f"test-contact-events-{uuid.uuid4().hex[:8]}",
            get_event_exchange("contacts"),
            routing_key="#",
            auto_delete=True,
        )
        bound = queue(connection.default_channel)
        bound.exchange.declare()
        bound.declare()
        yield EventQueue(bound)


def test_ping(rpc):
    assert rpc.ping() == "pong"


def test_a_contact_created_over_rpc_is_got_back(rpc):
    made = rpc.create_contact(
        {"email": "Olena@Example.com", "phone": "050 123 4567", "region": "UA"}, ACTOR
    )
    assert made["email"] == "olena@example.com" and made["phone"] == "+380501234567"
    assert rpc.get_contact(made["id"]) == made
    assert rpc.find_contacts(email="OLENA@example.com")["data"] == [made]


def test_errors_cross_as_plexus_errors(rpc):
    with pytest.raises(NotFound):
        rpc.get_contact("01jdx0000000000000000000zz")
    with pytest.raises(Invalid) as caught:
        rpc.create_contact({"email": "a@example.com", "language": "xx", "shoe_size": 44}, ACTOR)
    assert caught.value.errors == {
        "language": ["not an ISO 639-1 language code"],
        "shoe_size": ["Unknown field."],
    }
    rpc.create_contact({"email": "taken@example.com"}, ACTOR)
    with pytest.raises(Conflict) as caught:
        rpc.create_contact({"email": "TAKEN@example.com"}, ACTOR)
    assert caught.value.errors == {"email": ["belongs to another contact"]}
    with pytest.raises(Invalid) as caught:
        rpc.find_contacts(limit=500)
    assert set(caught.value.errors) == {"limit"}


def test_events_are_published_after_the_commit(rpc, contact_events):
    made = rpc.create_contact({"email": "events@example.com"}, ACTOR)
    name, payload = contact_events.get()
    assert name == "contact_created"
    assert payload["contact_id"] == made["id"] and payload["contact"] == made
    assert payload["actor"] == ACTOR and payload["event_id"] and payload["occurred_at"]
    assert [(s["channel"], s["status"]) for s in payload["subscribed"]] == [("email", "subscribed")]


def test_a_refused_change_publishes_nothing(rpc, contact_events):
    made = rpc.create_contact({"user_id": "u-1"}, ACTOR)
    rpc.create_contact({"user_id": "u-2"}, ACTOR)
    assert [contact_events.get()[0] for _ in range(2)] == ["contact_created"] * 2
    with pytest.raises(Conflict):
        rpc.update_contact(made["id"], {"user_id": "u-2"}, ACTOR)
    rpc.delete_contact(made["id"], ACTOR)
    name, payload = contact_events.get()
    assert name == "contact_deleted"
    assert set(payload) == {"event", "event_id", "occurred_at", "actor", "contact_id"}
    assert contact_events.get(timeout=1) is None


def test_a_batch_over_rpc(rpc):
    results = rpc.batch_upsert(
        [{"email": "a@example.com"}, {"email": "bad"}, {"email": "b@example.com"}], ACTOR
    )["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    with pytest.raises(Invalid) as caught:
        rpc.batch_upsert([{"email": "x@example.com"}] * 1001, ACTOR)
    assert set(caught.value.errors) == {"contacts"}


def test_the_relay_outlives_quiet_spells(rpc, contact_events, service_config):
    eventlet.sleep(service_config["OUTBOX_SWEEP_INTERVAL"] * 5)
    made = rpc.create_contact({"email": "later@example.com"}, ACTOR)
    name, payload = contact_events.get()
    assert (name, payload["contact_id"]) == ("contact_created", made["id"])


def test_messaging_black_lists_an_address_once_and_its_contact_hears_of_it(rpc, contact_events):
    made = rpc.create_contact({"email": "bounced@example.com"}, ACTOR)
    assert contact_events.get()[0] == "contact_created"
    assert rpc.blacklist_address(
        "email", "Bounced@Example.com", "550 5.1.1 no such user", "hard_bounce", "webhook:smtp"
    ) == {"added": True}
    name, payload = contact_events.get()
    assert (name, payload["contact_id"], payload["blacklisted"], payload["actor"]) == (
        "blacklist_changed",
        made["id"],
        True,
        "webhook:smtp",
    )
    # A second receipt of the same bounce keeps the entry as it is, and says nothing.
    assert rpc.blacklist_address(
        "email", "bounced@example.com", "again", "complaint", "webhook:smtp"
    ) == {"added": False}
    assert contact_events.get(timeout=1) is None
    page = rpc.list_blacklist("email", q="bounced")
    assert [(e["value"], e["source"], e["reason"]) for e in page["data"]] == [
        ("bounced@example.com", "hard_bounce", "550 5.1.1 no such user")
    ]
    assert rpc.get_contact(made["id"])["blacklists"]["email"]["reason"] == (
        "550 5.1.1 no such user"
    )
    with pytest.raises(Invalid) as caught:
        rpc.blacklist_address("phone", "12", None, "hard_bounce", ACTOR)
    assert set(caught.value.errors) == {"value"}


def test_the_contact_black_list_rpc_lists_its_current_address_by_hand(rpc):
    made = rpc.create_contact({"email": "complained@example.com"}, ACTOR)
    listed = rpc.add_to_blacklist(made["id"], "email", {"reason": "spam"}, ACTOR)
    assert listed["blacklists"]["email"]["reason"] == "spam"
    assert rpc.list_blacklist("email")["data"][0]["source"] == "manual"
    with pytest.raises(Conflict) as caught:
        rpc.add_to_blacklist(made["id"], "phone", {}, ACTOR)
    assert set(caught.value.errors) == {"phone"}


def test_the_suppression_secret_is_made_once_and_used(rpc, service_config):
    made = rpc.create_contact({"email": "gone@example.com"}, ACTOR)
    rpc.set_subscription(made["id"], "email", {"status": "unsubscribed"}, ACTOR)
    rpc.delete_contact(made["id"], ACTOR)
    kept = Path(service_config["DATA_DIR"]) / "suppression-secret"
    assert len(kept.read_text()) >= 32
    again = rpc.create_contact({"email": "gone@example.com"}, ACTOR)
    assert again["subscriptions"]["email"]["reason"] == "suppressed before erasure"
