"""The activity service in a real nameko container beside contacts, on the real broker:
contact changes become feed rows through the bus, posted events resolve their contact by
RPC, an item asks messaging for its message (here: not running), and erasure empties the
feed."""

import eventlet
import pytest
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcClient

from plexus.consumer import declare_topology
from plexus.contract import events
from plexus.errors import Invalid, NotFound
from plexus.ids import new_id
from plexus.migrations import migrate_service
from services.activity.entrypoints import ActivityService
from services.contacts.entrypoints import ContactsService

ACTOR = "interface-test"


@pytest.fixture
def services(service_config, container_factory):
    declare_topology(service_config["AMQP_URI"])
    for name, service in (("contacts", ContactsService), ("activity", ActivityService)):
        migrate_service(service_config, name)
        container_factory(service).start()


@pytest.fixture
def rpc(services):
    with ClusterRpcClient(timeout=10) as client:
        yield client


def eventually(read, condition, seconds=5.0):
    """read() again until condition(its result) holds; that result."""
    deadline = eventlet.hubs.get_hub().clock() + seconds
    while True:
        result = read()
        if condition(result):
            return result
        assert eventlet.hubs.get_hub().clock() < deadline, f"timed out: {result}"
        eventlet.sleep(0.05)


def kinds(page):
    return [(item["channel"], item["type"]) for item in page["data"]]


def test_contact_changes_reach_the_feed_through_the_bus(rpc):
    contact = rpc.contacts.create_contact({"email": "ann@example.com"}, ACTOR)
    rpc.contacts.update_contact(contact["id"], {"first_name": "Ann"}, ACTOR)
    rpc.contacts.add_to_blacklist(contact["id"], "email", {"reason": "asked"}, ACTOR)
    page = eventually(lambda: rpc.activity.feed(contact["id"]), lambda p: len(p["data"]) == 4)
    assert kinds(page) == [
        ("contact", "blacklisted"),
        ("contact", "updated"),
        ("email", "subscribed"),
        ("contact", "added"),
    ]
    assert page["data"][1]["details"]["changed"] == ["first_name"]


def test_posted_events_resolve_their_contact_by_any_identifier(rpc):
    contact = rpc.contacts.create_contact({"user_id": "u-7", "phone": "+380501234567"}, ACTOR)
    by_user = rpc.activity.record_event({"contact": {"user_id": "u-7"}, "name": "a"}, ACTOR)
    by_phone = rpc.activity.record_event(
        {"contact": {"phone": "+380501234567"}, "name": "b"}, ACTOR
    )
    by_id = rpc.activity.record_event({"contact": {"id": contact["id"]}, "name": "c"}, ACTOR)
    assert {by_user["contact_id"], by_phone["contact_id"], by_id["contact_id"]} == {contact["id"]}
    with pytest.raises(NotFound) as caught:
        rpc.activity.record_event(
            {"contact": {"email": "nobody@example.com"}, "name": "x", "create_contact": False},
            ACTOR,
        )
    assert caught.value.errors == {"contact": ["no such contact"]}
    # Without `create_contact: false`, an event makes the contact it names.
    made = rpc.activity.record_event({"contact": {"email": "new@example.com"}, "name": "y"}, ACTOR)
    assert rpc.contacts.get_contact(made["contact_id"])["created_via"] == "event"
    with pytest.raises(Invalid) as caught:
        rpc.activity.feed(contact["id"], channel="fax")
    assert list(caught.value.errors) == ["channel"]


def test_a_batch_of_1000_resolves_in_time(rpc):
    ids = [rpc.contacts.create_contact({"user_id": f"b-{n}"}, ACTOR)["id"] for n in range(20)]
    batch = [
        {"contact": {"user_id": f"b-{n % 25}"}, "name": "seen", "create_contact": False}
        for n in range(1000)
    ]
    started = eventlet.hubs.get_hub().clock()
    results = rpc.activity.record_events(batch, ACTOR)["results"]
    assert eventlet.hubs.get_hub().clock() - started < 10
    assert sum(r["status"] == "accepted" for r in results) == 800
    assert results[20]["errors"] == {"contact": ["no such contact"]}
    assert len(rpc.activity.feed(ids[0], channel="other", limit=200)["data"]) == 40


def test_a_message_item_is_given_when_messaging_is_not_running(rpc, service_config):
    contact = rpc.contacts.create_contact({"email": "bo@example.com"}, ACTOR)
    exchange = get_event_exchange(events.MESSAGING)
    Publisher(service_config["AMQP_URI"], declare=[exchange]).publish(
        {
            "event": events.MESSAGE_SENT,
            "event_id": new_id(),
            "occurred_at": "2026-11-20T10:00:00Z",
            "message_id": "m-1",
            "contact_id": contact["id"],
            "channel": "email",
            "origin": "transaction",
            "provider_id": "p-1",
        },
        exchange=exchange,
        routing_key=events.MESSAGE_SENT,
    )
    page = eventually(
        lambda: rpc.activity.feed(contact["id"], channel="email", type="sent"), lambda p: p["data"]
    )
    detail = rpc.activity.get_item(page["data"][0]["id"])
    assert detail["message_id"] == "m-1" and detail["message"] is None
    assert "messaging" in detail["message_error"]


def test_erasing_the_contact_empties_its_feed(rpc):
    contact = rpc.contacts.create_contact({"email": "cy@example.com"}, ACTOR)
    rpc.activity.record_event({"contact": {"id": contact["id"]}, "name": "a"}, ACTOR)
    eventually(lambda: rpc.activity.feed(contact["id"]), lambda p: len(p["data"]) == 3)
    rpc.contacts.delete_contact(contact["id"], ACTOR)

    def erased():
        try:
            rpc.activity.feed(contact["id"])
            return False
        except NotFound:
            return True

    eventually(erased, bool)
