"""The messaging service in a real nameko container on the real broker, beside a fake
contacts service: `send_message` queues on the channel's queue, `get_message` answers
the shape the activity service relies on, sender reports become events, and a
contact_deleted event erases the contact's messages."""

import eventlet
import pytest
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.rpc import rpc
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcClient

from plexus.consumer import declare_topology
from plexus.errors import Conflict, NotFound
from plexus.migrations import migrate_service
from services.messaging import queues
from services.messaging.entrypoints import MessagingService
from tests.unit.messaging.conftest import make_contact

CONTACT = make_contact()


class FakeContacts:
    name = "contacts"

    @rpc
    def get_contact(self, contact_id):
        if contact_id != CONTACT["id"]:
            raise NotFound("no such contact")
        return CONTACT

    @rpc
    def contact_variables(self, contact_id, q=None):
        return {"data": [{"name": "first_name", "value": "Ann"}]}


@pytest.fixture
def messaging(service_config, container_factory):
    migrate_service(service_config, "messaging")
    declare_topology(service_config["AMQP_URI"])
    container_factory(FakeContacts).start()
    container_factory(MessagingService).start()
    with ClusterRpcClient(timeout=10) as client:
        yield client.messaging


def wait_until(condition, seconds=10.0):
    deadline = eventlet.hubs.get_hub().clock() + seconds
    while not (value := condition()):
        assert eventlet.hubs.get_hub().clock() < deadline, "timed out"
        eventlet.sleep(0.05)
    return value


def test_send_queues_for_the_sender_and_get_message_answers_the_contract(service_config, messaging):
    queued = messaging.send_message(
        {
            "contact": {"id": CONTACT["id"]},
            "channel": "sms",
            "content": {"body": "Hi {{ first_name }}"},
        },
        "test",
    )
    with Connection(service_config["AMQP_URI"]) as connection:
        waiting = queues.sender_queue("sms")(connection.channel())
        waiting.declare()  # as the relay does before it publishes
        body = wait_until(lambda: waiting.get(no_ack=True)).payload
    # The queue carries the id; the claim hands the sender the address and the content.
    assert body == {**body, "message_id": queued["id"], "channel": "sms"}
    assert CONTACT["phone"] not in str(body)
    claimed = messaging.claim_delivery(queued["id"])
    assert claimed["send"] and claimed["delivery"]["to"] == CONTACT["phone"]
    assert claimed["delivery"]["content"] == {"body": "Hi Ann"}

    assert messaging.report_delivery(queued["id"], "sent", {"provider_id": "SM1"}) is True
    assert messaging.claim_delivery(queued["id"]) == {"send": False}
    stored = messaging.get_message(queued["id"])
    assert set(stored) == {
        "id",
        "contact_id",
        "channel",
        "origin",
        "category",
        "template_id",
        "resend_of",
        "purpose",
        "trigger",
        "status",
        "content",
        "created_at",
        "history",
    }
    assert stored["purpose"] is None and stored["trigger"] is None
    assert stored["status"] == "sent" and stored["origin"] == "transaction"
    assert [h["status"] for h in stored["history"]] == ["queued", "sent"]
    assert set(stored["history"][1]) == {"status", "at", "details"}
    with pytest.raises(NotFound):
        messaging.get_message("01unknown0000000000000000")


def test_refusals_cross_the_wire_as_conflict(messaging):
    CONTACT["status"] = "inactive"
    try:
        with pytest.raises(Conflict, match="inactive"):
            messaging.send_message(
                {
                    "contact": {"id": CONTACT["id"]},
                    "channel": "email",
                    "content": {"subject": "s", "text": "t"},
                },
                "test",
            )
    finally:
        CONTACT["status"] = "active"


def test_a_confirmation_goes_to_an_address_not_yet_subscribed(messaging):
    subscriptions = CONTACT["subscriptions"]
    CONTACT["subscriptions"] = {**subscriptions, "email": {"status": "never"}}
    try:
        with pytest.raises(Conflict, match="not subscribed"):
            messaging.send_message(
                {
                    "contact": {"id": CONTACT["id"]},
                    "channel": "email",
                    "content": {"subject": "s", "text": "t"},
                },
                "test",
            )
        queued = messaging.queue_confirmation(
            CONTACT["id"], "tok.en", "2026-12-02T12:00:00Z", "form"
        )
        # Claimed at send time, still not subscribed: it goes, untracked.
        claimed = messaging.claim_delivery(queued["id"])
    finally:
        CONTACT["subscriptions"] = subscriptions
    assert claimed["send"] and claimed["delivery"]["to"] == CONTACT["email"]
    assert "/forms/confirm/tok.en" in claimed["delivery"]["content"]["text"]
    assert "/t/c/" not in claimed["delivery"]["content"]["html"]
    assert "unsubscribe_url" not in claimed["delivery"]
    assert messaging.get_message(queued["id"])["purpose"] == "confirmation"


def test_a_contact_unsubscribed_since_queueing_is_suppressed_at_the_claim(messaging):
    queued = messaging.send_message(
        {
            "contact": {"id": CONTACT["id"]},
            "channel": "email",
            "content": {"subject": "s", "text": "t"},
        },
        "test",
    )
    CONTACT["subscriptions"]["email"]["status"] = "unsubscribed"
    try:
        assert messaging.claim_delivery(queued["id"]) == {
            "send": False,
            "suppressed": "unsubscribed",
        }
    finally:
        CONTACT["subscriptions"]["email"]["status"] = "subscribed"
    assert messaging.get_message(queued["id"])["status"] == "suppressed"


def test_contact_deleted_erases_the_contacts_messages(service_config, messaging):
    queued = messaging.send_message(
        {
            "contact": {"id": CONTACT["id"]},
            "channel": "email",
            "content": {"subject": "s", "text": "t"},
        },
        "test",
    )
    exchange = get_event_exchange("contacts")
    Publisher(service_config["AMQP_URI"], declare=[exchange]).publish(
        {"event": "contact_deleted", "event_id": "e1", "contact_id": CONTACT["id"]},
        exchange=exchange,
        routing_key="contact_deleted",
    )

    def erased():
        try:
            messaging.get_message(queued["id"])
        except NotFound:
            return True
        return False

    wait_until(erased)
