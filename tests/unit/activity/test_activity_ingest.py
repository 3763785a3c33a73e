"""What external systems post: custom events and conversions, batches of them, orders."""

import pytest

from plexus.contract import events
from plexus.errors import Conflict, Invalid, NotFound
from services.activity.logic import ingest
from services.activity.logic.feed import feed
from tests.unit.activity.conftest import ACTOR


def test_a_custom_event_is_stored_as_posted_and_announced(run, directory, outbox):
    contact_id = directory.add(email="ann@example.com")
    item = run(
        ingest.record_event,
        {
            "contact": {"email": "ann@example.com"},
            "name": "viewed_pricing",
            "properties": {"plan": "pro"},
            "occurred_at": "2026-11-20T10:00:00.250+02:00",
        },
        ACTOR,
        directory,
    )
    assert item == {
        "id": item["id"],
        "contact_id": contact_id,
        "occurred_at": "2026-11-20T08:00:00Z",
        "channel": "other",
        "origin": None,
        "type": "custom_event",
        "message_id": None,
        "details": {"name": "viewed_pricing", "properties": {"plan": "pro"}, "actor": ACTOR},
    }
    [[announced]] = [event["items"] for event in outbox(events.ACTIVITY_RECORDED)]
    assert {
        key: announced[key]
        for key in ("item_id", "contact_id", "channel", "type", "origin", "name", "occurred_at")
    } == {
        "item_id": item["id"],
        "contact_id": contact_id,
        "channel": "other",
        "type": "custom_event",
        "origin": None,
        "name": "viewed_pricing",
        "occurred_at": "2026-11-20T08:00:00Z",
    }


def test_a_conversion_is_a_custom_conversion_with_its_value(run, directory):
    contact_id = directory.add(user_id="u-1")
    item = run(
        ingest.record_event,
        {
            "contact": {"user_id": "u-1"},
            "name": "trial_paid",
            "conversion": {"value": 49.5, "currency": "eur"},
        },
        ACTOR,
        directory,
    )
    assert item["type"] == "custom_conversion" and item["contact_id"] == contact_id
    assert item["details"]["conversion"] == {"value": 49.5, "currency": "EUR"}


def test_an_unknown_contact_is_not_found_when_it_may_not_be_created(run, directory):
    for contact in ({"email": "x@example.com"}, {"id": "01jdx00000000000000000000z"}):
        with pytest.raises(NotFound) as caught:
            run(
                ingest.record_event,
                {"contact": contact, "name": "x", "create_contact": False},
                ACTOR,
                directory,
            )
        assert caught.value.errors == {"contact": ["no such contact"]}
    # An id names no contact to make: still 404 whatever the body says.
    with pytest.raises(NotFound):
        run(
            ingest.record_event,
            {"contact": {"id": "01jdx00000000000000000000z"}, "name": "x"},
            ACTOR,
            directory,
        )
    assert directory.created == []


def test_events_and_orders_make_the_contact_they_name_once(run, directory):
    event = {"contact": {"email": "new@example.com"}, "name": "signed_up"}
    first = run(ingest.record_event, event, ACTOR, directory)
    again = run(ingest.record_event, event, ACTOR, directory)  # a retry: the same contact
    assert first["contact_id"] == again["contact_id"]
    assert directory.created == [(first["contact_id"], "event", ACTOR)]
    order = {
        "contact": {"user_id": "shop-42"},
        "external_id": "o-make-1",
        "amount": 10,
        "currency": "EUR",
        "status": "paid",
    }
    made = run(ingest.record_order, order, ACTOR, directory)
    assert directory.created[1] == (made["item"]["contact_id"], "order", ACTOR)
    with pytest.raises(NotFound):
        run(
            ingest.record_order,
            {
                **order,
                "external_id": "o-2",
                "contact": {"user_id": "nobody"},
                "create_contact": False,
            },
            ACTOR,
            directory,
        )
    results = run(
        ingest.record_events,
        [
            {"contact": {"phone": "+380501112233"}, "name": "a"},
            {"contact": {"phone": "+380501112233"}, "name": "b"},
            {"contact": {"phone": "+380509998877"}, "name": "c", "create_contact": False},
        ],
        ACTOR,
        directory,
    )["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "error"]
    assert results[2]["errors"] == {"contact": ["no such contact"]}
    assert len(directory.created) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "contact"),
        ({"contact": {}, "name": "x"}, "contact"),
        ({"contact": {"id": "a"}, "name": ""}, "name"),
        ({"contact": {"id": "a"}, "name": "x", "occurred_at": "2026-11-20 10:00"}, "occurred_at"),
        (
            {"contact": {"id": "a"}, "name": "x", "occurred_at": "2026-02-30T10:00:00Z"},
            "occurred_at",
        ),
        (
            {"contact": {"id": "a"}, "name": "x", "occurred_at": "2999-01-01T00:00:00Z"},
            "occurred_at",
        ),
        (
            {"contact": {"id": "a"}, "name": "x", "conversion": {"value": 1, "currency": "XXY"}},
            "conversion.currency",
        ),
        (
            {"contact": {"id": "a"}, "name": "x", "conversion": {"value": "1", "currency": "EUR"}},
            "conversion.value",
        ),
        ({"contact": {"id": "a"}, "name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_events_are_refused_naming_the_field(run, directory, body, field):
    with pytest.raises(Invalid) as caught:
        run(ingest.record_event, body, ACTOR, directory)
    assert field in caught.value.errors, caught.value.errors


def test_a_batch_answers_each_event_on_its_own(run, directory):
    known = directory.add(email="ann@example.com")
    results = run(
        ingest.record_events,
        [
            {"contact": {"email": "ann@example.com"}, "name": "a"},
            {"contact": {"email": "nobody@example.com"}, "name": "b", "create_contact": False},
            {"contact": {"email": "ann@example.com"}, "name": ""},
            "not an object",
            {"contact": {"phone": "not a phone"}, "name": "c"},
            {"contact": {"id": known}, "name": "d", "conversion": {"value": 3, "currency": "USD"}},
        ],
        ACTOR,
        directory,
    )["results"]
    assert [r["status"] for r in results] == [
        "accepted",
        "error",
        "error",
        "error",
        "error",
        "accepted",
    ]
    assert results[1]["errors"] == {"contact": ["no such contact"]}
    assert "name" in results[2]["errors"]
    assert results[4]["errors"] == {"contact.phone": ["not a valid phone number"]}
    stored = run(feed, known)["data"]
    assert [item["id"] for item in stored] == [results[5]["id"], results[0]["id"]]


def test_a_batch_takes_1000_events_at_most(run, directory):
    with pytest.raises(Invalid) as caught:
        run(ingest.record_events, [{}] * 1001, ACTOR, directory)
    assert "events" in caught.value.errors


def test_the_same_external_id_updates_the_order(run, directory, outbox):
    contact_id = directory.add(user_id="u-1")
    order = {
        "contact": {"user_id": "u-1"},
        "external_id": "SO-1",
        "amount": 120,
        "currency": "UAH",
        "status": "created",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    first = run(ingest.record_order, order, ACTOR, directory)
    second = run(ingest.record_order, {**order, "status": "paid", "amount": 110}, ACTOR, directory)
    assert first["created"] is True and second["created"] is False
    assert second["item"]["id"] == first["item"]["id"]
    assert second["item"]["details"]["status"] == "paid"
    assert second["item"]["details"]["amount"] == 110
    assert [h["status"] for h in second["item"]["details"]["status_history"]] == ["created", "paid"]
    assert [i["id"] for i in run(feed, contact_id)["data"]] == [first["item"]["id"]]
    assert len(outbox(events.ACTIVITY_RECORDED)) == 1  # one row, announced once


def test_an_order_of_another_contact_is_a_conflict(run, directory):
    directory.add(user_id="u-1")
    directory.add(user_id="u-2")
    order = {
        "contact": {"user_id": "u-1"},
        "external_id": "SO-1",
        "amount": 1,
        "currency": "EUR",
        "status": "created",
    }
    run(ingest.record_order, order, ACTOR, directory)
    with pytest.raises(Conflict) as caught:
        run(ingest.record_order, {**order, "contact": {"user_id": "u-2"}}, ACTOR, directory)
    assert "external_id" in caught.value.errors
