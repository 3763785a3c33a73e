"""Creating, reading, changing, (de)activating and erasing contacts, and the events
each change records in the outbox."""

import time

import pytest
from sqlalchemy import func, select

from plexus.contract.contacts import Contact as ContactSchema
from plexus.errors import Conflict, Invalid, NotFound
from services.contacts.logic import blacklists, contacts, notes, subscriptions
from services.contacts.logic.identifiers import Owners
from services.contacts.models import (
    BlacklistEntry,
    Contact,
    Note,
    Outbox,
    Subscription,
    SubscriptionChange,
)

ACTOR = "crm-sync"  # the actor the conftest's `create` acts as


def test_a_new_contact_is_stored_normalised_with_its_defaults(create):
    contact = create(
        email="Olena@Example.COM",
        phone="050 123 4567",
        region="UA",
        first_name=" Olena ",
        birthday="1990-04-01",
        language="uk",
        timezone="Europe/Kyiv",
        address={"country": "UA", "city": "Kyiv"},
    )
    assert contact["email"] == "olena@example.com"
    assert contact["phone"] == "+380501234567"
    assert contact["first_name"] == "Olena"
    assert contact["birthday"] == "1990-04-01"
    assert contact["status"] == "active"
    assert contact["gender"] == 0 and contact["contact_score"] == 0
    assert contact["categories"] == {} and contact["variables"] == {}
    assert contact["address"]["city"] == "Kyiv" and contact["address"]["street"] is None
    assert contact["blacklists"] == {"email": None, "phone": None, "viber": None}
    assert contact["channels"] == {"telegram": None, "viber": None, "webpush": [], "app_push": []}
    assert contact["created_at"].endswith("Z") and contact["created_at"] == contact["updated_at"]
    assert "region" not in contact


def test_the_resource_matches_the_published_contact_schema(create):
    contact = create(email="a@example.com", address={"country": "UA"})
    assert ContactSchema().validate(contact) == {}
    assert list(contact) == list(ContactSchema().fields)


def test_every_channel_has_a_subscription_and_addresses_subscribe_theirs(create):
    contact = create(email="a@example.com", phone="+380501234567")
    states = {channel: state["status"] for channel, state in contact["subscriptions"].items()}
    assert states == {
        "email": "subscribed",
        "sms": "subscribed",
        "telegram": "never",
        "viber": "never",
        "webpush_desktop": "never",
        "webpush_mobile": "never",
        "app_push": "never",
    }
    assert contact["subscriptions"]["email"]["reason"] == "address added"
    assert contact["subscriptions"]["telegram"] == {
        "status": "never",
        "changed_at": None,
        "reason": None,
    }


def test_creating_records_contact_created_listing_its_subscriptions(create, outbox):
    contact = create(email="a@example.com")
    recorded = outbox()
    assert [name for name, _ in recorded] == ["contact_created"]  # one event, not two
    created = recorded[0][1]
    assert created["contact_id"] == contact["id"] and created["contact"] == contact
    assert created["actor"] == ACTOR and created["event_id"] and created["occurred_at"]
    [subscribed] = created["subscribed"]
    assert subscribed | {"event_id": None} == {
        "channel": "email",
        "status": "subscribed",
        "previous": "never",
        "reason": "address added",
        "event_id": None,
    }
    assert subscribed["event_id"] > created["event_id"]  # sorts after: the feed's order


def test_the_ledger_records_the_first_address(create, run):
    contact = create(phone="+380501234567")
    ledger = run(subscriptions.subscription_history, contact["id"], 50, None)["data"]
    assert [
        (e["channel"], e["status"], e["previous_status"], e["reason"], e["actor"]) for e in ledger
    ] == [("sms", "subscribed", "never", "address added", ACTOR)]


def test_a_contact_needs_an_identifier(create):
    with pytest.raises(Invalid) as caught:
        create(first_name="Nobody", email="  ")
    assert set(caught.value.errors) == {"user_id", "email", "phone"}


def test_a_bad_identifier_is_named_as_bad_not_as_missing(create):
    with pytest.raises(Invalid) as caught:
        create(email="not-an-email")
    assert set(caught.value.errors) == {"email"}


def test_every_problem_is_reported_at_once(create):
    with pytest.raises(Invalid) as caught:
        create(email="a@example.com", language="xx", source="nowhere", gender=5)
    assert set(caught.value.errors) == {"language", "source", "gender"}


@pytest.mark.parametrize(
    "field, first, second",
    [
        ("email", "olena@example.com", "OLENA@Example.com"),
        ("phone", "+380501234567", "050 123 45 67"),
        ("user_id", "u-1", " u-1 "),
    ],
)
def test_an_identifier_of_another_contact_is_a_conflict_naming_it(create, field, first, second):
    create(**{field: first})
    with pytest.raises(Conflict) as caught:
        create(**{field: second, "region": "UA"})
    assert caught.value.errors == {field: ["belongs to another contact"]}


def test_a_race_past_the_check_is_the_same_conflict(create, run):
    create(email="a@example.com")

    def insert_unaware_of_the_first(session):
        # Owners that has not seen the stored contact: the database's constraint decides.
        contacts.insert(session, {"email": "a@example.com"}, Owners(), ACTOR)

    with pytest.raises(Conflict) as caught:
        run(insert_unaware_of_the_first)
    assert caught.value.errors == {"email": ["belongs to another contact"]}


def test_get_answers_the_stored_contact_or_not_found(create, run):
    contact = create(user_id="u-1")
    assert run(contacts.get_contact, contact["id"]) == contact
    for unknown in ("01jdx0000000000000000000zz", 42, None, {"id": 1}):
        with pytest.raises(NotFound):
            run(contacts.get_contact, unknown)


def test_patch_changes_the_fields_given_and_null_clears(create, run, outbox, clear_outbox):
    contact = create(
        email="a@example.com", first_name="Ann", language="en", gender=2, contact_score=5
    )
    clear_outbox()
    time.sleep(1.01)  # updated_at has a one-second resolution in the resource
    updated = run(
        contacts.update_contact,
        contact["id"],
        {"first_name": "Anna", "language": None, "gender": None, "contact_score": None},
        ACTOR,
    )
    assert updated["first_name"] == "Anna" and updated["language"] is None
    assert updated["gender"] == 0 and updated["contact_score"] == 0
    assert updated["email"] == "a@example.com"
    assert updated["updated_at"] > contact["updated_at"]
    assert updated["created_at"] == contact["created_at"]
    [event] = outbox("contact_updated")
    assert event["changed"] == {
        "first_name": "Anna",
        "language": None,
        "gender": 0,
        "contact_score": 0.0,
    }
    assert event["contact_id"] == contact["id"] and event["actor"] == ACTOR


def test_a_patch_that_changes_nothing_records_nothing(create, run, outbox, clear_outbox):
    contact = create(email="a@example.com", first_name="Ann")
    clear_outbox()
    time.sleep(1.01)
    same = run(
        contacts.update_contact,
        contact["id"],
        {"first_name": " Ann ", "email": "A@EXAMPLE.COM"},
        ACTOR,
    )
    assert same == contact
    assert outbox() == []


def test_patch_refuses_read_only_fields(create, run):
    contact = create(email="a@example.com")
    for field in ("status", "created_at", "id"):
        with pytest.raises(Invalid) as caught:
            run(contacts.update_contact, contact["id"], {field: "x"}, ACTOR)
        assert caught.value.errors == {field: ["read-only field"]}


def test_patch_may_not_clear_the_last_identifier(create, run):
    contact = create(email="a@example.com", user_id="u-1")
    run(contacts.update_contact, contact["id"], {"user_id": None}, ACTOR)
    with pytest.raises(Invalid) as caught:
        run(contacts.update_contact, contact["id"], {"email": None}, ACTOR)
    assert set(caught.value.errors) == {"user_id", "email", "phone"}


def test_patch_reads_a_national_phone_in_the_stored_country(create, run):
    contact = create(email="a@example.com", address={"country": "UA"})
    updated = run(contacts.update_contact, contact["id"], {"phone": "050 123 4567"}, ACTOR)
    assert updated["phone"] == "+380501234567"


def test_patch_to_an_identifier_of_another_contact_is_a_conflict(create, run):
    create(email="taken@example.com")
    contact = create(email="mine@example.com")
    with pytest.raises(Conflict) as caught:
        run(contacts.update_contact, contact["id"], {"email": "Taken@example.com"}, ACTOR)
    assert caught.value.errors == {"email": ["belongs to another contact"]}
    assert run(contacts.get_contact, contact["id"])["email"] == "mine@example.com"


def test_a_first_phone_added_later_subscribes_sms(create, run, outbox, clear_outbox):
    contact = create(email="a@example.com")
    clear_outbox()
    updated = run(contacts.update_contact, contact["id"], {"phone": "+380501234567"}, ACTOR)
    assert updated["subscriptions"]["sms"]["status"] == "subscribed"
    [(name, updated_event)] = outbox()
    assert name == "contact_updated"
    assert [(s["channel"], s["status"]) for s in updated_event["subscribed"]] == [
        ("sms", "subscribed")
    ]


def test_a_changed_address_keeps_an_unsubscribed_channel_unsubscribed(create, run):
    contact = create(email="a@example.com")
    run(subscriptions.set_subscription, contact["id"], "email", {"status": "unsubscribed"}, ACTOR)
    updated = run(contacts.update_contact, contact["id"], {"email": "b@example.com"}, ACTOR)
    assert updated["subscriptions"]["email"]["status"] == "unsubscribed"


def test_find_by_each_identifier(create, run):
    contact = create(user_id="u-1", email="olena@example.com", phone="+380501234567")
    for lookup in (
        {"user_id": "u-1"},
        {"email": "OLENA@example.com"},
        {"phone": "+380501234567"},
        {"phone": "050 123 45 67", "region": "UA"},
        {"phone": "+38 (050) 123-45-67"},
        {"user_id": "u-1", "email": "olena@example.com"},
    ):
        found = run(contacts.find_contacts, **lookup)
        assert [c["id"] for c in found["data"]] == [contact["id"]], lookup
        assert found["next_cursor"] is None
    assert run(contacts.find_contacts, email="nobody@example.com")["data"] == []
    assert run(contacts.find_contacts, user_id="u-1", email="other@example.com")["data"] == []


def test_find_by_an_unreadable_phone_is_invalid(run):
    with pytest.raises(Invalid) as caught:
        run(contacts.find_contacts, phone="050 123 4567")
    assert set(caught.value.errors) == {"phone"}


def test_listing_pages_newest_first(create, run):
    made = [create(user_id=f"u-{n}")["id"] for n in range(5)]
    first = run(contacts.find_contacts, limit=2)
    assert [c["id"] for c in first["data"]] == made[::-1][:2]
    second = run(contacts.find_contacts, limit=2, cursor=first["next_cursor"])
    assert [c["id"] for c in second["data"]] == made[::-1][2:4]
    last = run(contacts.find_contacts, limit=2, cursor=second["next_cursor"])
    assert [c["id"] for c in last["data"]] == made[:1] and last["next_cursor"] is None


def test_activate_and_deactivate_record_each_change_once(create, run, outbox, clear_outbox):
    contact = create(email="a@example.com")
    clear_outbox()
    assert run(contacts.set_status, contact["id"], "inactive", ACTOR)["status"] == "inactive"
    assert run(contacts.set_status, contact["id"], "inactive", ACTOR)["status"] == "inactive"
    assert run(contacts.set_status, contact["id"], "active", ACTOR)["status"] == "active"
    assert [(name, payload["contact_id"]) for name, payload in outbox()] == [
        ("contact_deactivated", contact["id"]),
        ("contact_activated", contact["id"]),
    ]
    with pytest.raises(Invalid) as caught:
        run(contacts.set_status, contact["id"], "asleep", ACTOR)
    assert set(caught.value.errors) == {"status"}


def test_erasing_removes_everything_of_the_contact(create, run, sessions, outbox):
    contact = create(email="a@example.com", phone="+380501234567")
    other = create(email="b@example.com")
    run(notes.add_note, contact["id"], {"content": "call back"}, ACTOR)
    run(blacklists.add_to_blacklist, contact["id"], "email", {"reason": "bounce"}, ACTOR)

    run(contacts.delete_contact, contact["id"], ACTOR)

    with pytest.raises(NotFound):
        run(contacts.get_contact, contact["id"])
    with sessions() as session:
        for model in (Note, Subscription, SubscriptionChange):
            left = session.scalar(
                select(func.count()).select_from(model).where(model.contact_id == contact["id"])
            )
            assert left == 0, model.__name__
        # Its black-listed address is kept as a hash only (test_suppression.py).
        assert session.scalars(select(BlacklistEntry.value)).all() == []
        assert session.get(Contact, other["id"]) is not None
        mentions = [
            row.payload
            for row in session.scalars(select(Outbox))
            if row.payload.get("contact_id") == contact["id"]
        ]
    # Its events not yet published are gone; only the erasure itself is announced.
    assert [set(payload) for payload in mentions] == [
        {"event", "event_id", "occurred_at", "actor", "contact_id"}
    ]
    assert outbox("contact_deleted")[0]["contact_id"] == contact["id"]
    assert outbox("contact_created")[0]["contact_id"] == other["id"]
    # Its identifiers are free again.
    assert create(email="a@example.com", phone="+380501234567")["id"] != contact["id"]


def test_erasing_an_unknown_contact_is_not_found(run):
    with pytest.raises(NotFound):
        run(contacts.delete_contact, "01jdx0000000000000000000zz", ACTOR)
