"""Other services' events as feed rows: the mapping, idempotency, erasure."""

import pytest
from sqlalchemy import func, select

from plexus.contract import events
from plexus.errors import NotFound
from plexus.ids import new_id
from services.activity.logic import ingest
from services.activity.logic.bus_events import (
    on_contact_events,
    on_message_events,
    on_segment_events,
)
from services.activity.logic.feed import feed
from services.activity.models import ActivityItem, Order, Outbox
from tests.unit.activity.conftest import ACTOR, contact_event

CONTACT = "01jdx00000000000000000000a"


def on_contact_event(session, payload):
    """One event: a batch of one."""
    return on_contact_events(session, [payload])


def on_message_event(session, payload):
    """One event: a batch of one."""
    return on_message_events(session, [payload])


def on_segment_event(session, payload):
    """One event: a batch of one."""
    return on_segment_events(session, [payload])


def kinds(run, contact_id=CONTACT):
    return [(i["channel"], i["type"]) for i in run(feed, contact_id)["data"]]


def test_each_contacts_event_becomes_its_row(run):
    for second, (name, extra) in enumerate(
        [
            (events.CONTACT_CREATED, {"contact": {"email": "ann@example.com"}}),
            (events.CONTACT_UPDATED, {"changed": {"first_name": "Ann", "email": "a@x.example"}}),
            (events.CONTACT_DEACTIVATED, {}),
            (events.CONTACT_ACTIVATED, {}),
            (events.BLACKLIST_CHANGED, {"list": "phone", "blacklisted": True, "reason": "asked"}),
            (events.BLACKLIST_CHANGED, {"list": "phone", "blacklisted": False, "reason": None}),
            (
                events.SUBSCRIPTION_CHANGED,
                {
                    "channel": "email",
                    "status": "unsubscribed",
                    "previous": "subscribed",
                    "reason": "too many",
                },
            ),
        ]
    ):
        run(on_contact_event, contact_event(name, CONTACT, f"2026-11-20T10:00:0{second}Z", **extra))
    assert kinds(run) == [
        ("email", "unsubscribed"),
        ("contact", "unblacklisted"),
        ("contact", "blacklisted"),
        ("contact", "activated"),
        ("contact", "deactivated"),
        ("contact", "updated"),
        ("contact", "added"),
    ]
    items = run(feed, CONTACT)["data"]
    assert items[0]["details"] == {"actor": "crm", "previous": "subscribed", "reason": "too many"}
    assert items[2]["details"] == {"actor": "crm", "list": "phone", "reason": "asked"}
    # Field names only: the feed does not keep a copy of the person's data.
    assert items[5]["details"] == {"actor": "crm", "changed": ["email", "first_name"]}
    assert items[6]["details"] == {"actor": "crm"}


def test_the_same_event_twice_is_one_row(run):
    event = contact_event(events.CONTACT_CREATED, CONTACT, contact={})
    run(on_contact_event, event)
    run(on_contact_event, dict(event))
    assert kinds(run) == [("contact", "added")]


def test_message_events_are_rows_of_their_channel(run):
    message = {"message_id": "m-1", "contact_id": CONTACT, "channel": "sms", "origin": "campaign"}
    run(
        on_message_event,
        {
            "event": events.MESSAGE_SENT,
            "event_id": new_id(),
            "occurred_at": "2026-11-20T10:00:00Z",
            "provider_id": "p-9",
            **message,
        },
    )
    run(
        on_message_event,
        {
            "event": events.MESSAGE_STATUS,
            "event_id": new_id(),
            "occurred_at": "2026-11-20T10:00:05Z",
            "status": "click",
            "details": {"url": "https://shop.example/"},
            **message,
        },
    )
    items = run(feed, CONTACT)["data"]
    assert [(i["channel"], i["type"], i["origin"], i["message_id"]) for i in items] == [
        ("sms", "click", "campaign", "m-1"),
        ("sms", "sent", "campaign", "m-1"),
    ]
    assert items[0]["details"] == {"url": "https://shop.example/"}
    assert items[1]["details"] == {"provider_id": "p-9"}


def test_a_status_outside_the_vocabulary_is_refused(run):
    with pytest.raises(ValueError):
        run(
            on_message_event,
            {
                "event": events.MESSAGE_STATUS,
                "event_id": new_id(),
                "occurred_at": "2026-11-20T10:00:00Z",
                "message_id": "m",
                "contact_id": CONTACT,
                "channel": "sms",
                "status": "open",
            },
        )
    assert kinds(run) == []


def test_a_created_contact_and_the_subscriptions_its_event_lists(run):
    created = contact_event(events.CONTACT_CREATED, CONTACT, contact={})
    created["subscribed"] = [
        {
            "event_id": new_id(),
            "channel": channel,
            "status": "subscribed",
            "previous": "never",
            "reason": "address added",
        }
        for channel in ("email", "sms")
    ]
    run(on_contact_events, [created, dict(created)])  # delivered twice: once in the feed
    run(on_contact_event, dict(created))
    items = run(feed, CONTACT)["data"]
    assert [(i["channel"], i["type"]) for i in items] == [
        ("sms", "subscribed"),
        ("email", "subscribed"),
        ("contact", "added"),
    ]
    assert items[0]["details"] == {
        "actor": created["actor"],
        "previous": "never",
        "reason": "address added",
    }


def test_segment_entries_and_exits(run):
    other = new_id()
    for second, change in enumerate(("added", "dropped")):
        run(
            on_segment_event,
            {
                "event": events.SEGMENT_MEMBERSHIP_CHANGED,
                "event_id": new_id(),
                "occurred_at": f"2026-11-20T10:00:0{second}Z",
                "contact_ids": [CONTACT, other],
                "segment_id": "s-1",
                "segment_name": "VIP",
                "change": change,
            },
        )
    for contact_id in (CONTACT, other):
        items = run(feed, contact_id)["data"]
        assert [i["type"] for i in items] == ["dropped_from_segment", "added_to_segment"]
        assert items[0]["details"] == {"segment_id": "s-1", "segment_name": "VIP"}


def test_a_segment_event_delivered_again_adds_no_row(run):
    event = {
        "event": events.SEGMENT_MEMBERSHIP_CHANGED,
        "event_id": new_id(),
        "occurred_at": "2026-11-20T10:00:00Z",
        "contact_ids": [CONTACT],
        "segment_id": "s-1",
        "segment_name": "VIP",
        "change": "added",
    }
    run(on_segment_events, [event, dict(event)])
    run(on_segment_event, dict(event))
    assert kinds(run) == [("contact", "added_to_segment")]


def test_erasing_a_contact_forgets_all_of_its_activity(run, sessions, directory):
    contact_id = directory.add(user_id="u-1")
    other = directory.add(user_id="u-2")
    run(on_contact_event, contact_event(events.CONTACT_CREATED, contact_id, contact={}))
    run(
        ingest.record_order,
        {
            "contact": {"id": contact_id},
            "external_id": "SO-1",
            "amount": 1,
            "currency": "EUR",
            "status": "paid",
        },
        ACTOR,
        directory,
    )
    run(ingest.record_event, {"contact": {"id": other}, "name": "kept"}, ACTOR, directory)
    # One batch about both: its activity_recorded event lists rows of both contacts.
    run(
        on_contact_events,
        [
            contact_event(events.CONTACT_ACTIVATED, contact_id),
            contact_event(events.CONTACT_ACTIVATED, other),
        ],
    )
    late = contact_event(events.CONTACT_UPDATED, contact_id, changed={"first_name": "A"})

    run(on_contact_event, contact_event(events.CONTACT_DELETED, contact_id))
    run(on_contact_event, late)  # delivered after the erasure: dropped

    with pytest.raises(NotFound):
        run(feed, contact_id)
    with sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(ActivityItem)
                .where(ActivityItem.contact_id == contact_id)
            )
            == 0
        )
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        pending = [
            [item["contact_id"] for item in row.payload["items"]]
            for row in session.scalars(select(Outbox).order_by(Outbox.id))
        ]
    assert pending == [[other], [other]]
    assert kinds(run, other) == [("other", "custom_event"), ("contact", "activated")]


def test_a_message_items_trigger_is_kept_and_shown_with_the_item(run):
    from services.activity.logic.item_detail import get_item

    trigger = {"campaign_id": "c-7", "variant": "B"}
    for name, trigger_of, extra in (
        (events.MESSAGE_SENT, trigger, {"provider_id": "p-1"}),
        (events.MESSAGE_STATUS, None, {"status": "delivered", "details": {}}),
    ):
        run(
            on_message_event,
            {
                "event": name,
                "event_id": new_id(),
                "occurred_at": "2026-11-20T10:00:00Z",
                "message_id": "m-1" if trigger_of else "m-2",
                "contact_id": CONTACT,
                "channel": "email",
                "origin": "campaign" if trigger_of else "transaction",
                "trigger": trigger_of,
                **extra,
            },
        )
    by_message = {i["message_id"]: i for i in run(feed, CONTACT)["data"]}
    assert "trigger" not in by_message["m-1"]  # the feed's shape is unchanged
    detail = run(get_item, by_message["m-1"]["id"], lambda message_id: {"id": message_id})
    assert detail["trigger"] == trigger
    assert (
        run(get_item, by_message["m-2"]["id"], lambda message_id: {"id": message_id})["trigger"]
        is None
    )
