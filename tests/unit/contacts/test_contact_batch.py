"""Importing contacts in batches: per-item results, matching, PATCH semantics, and one
bad item never failing the others."""

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from plexus.errors import Invalid
from services.contacts.logic import batch, contacts
from services.contacts.logic.identifiers import Owners

ACTOR = "importer"


def upsert(run, items):
    return run(batch.batch_upsert, items, ACTOR)["results"]


def test_a_bad_item_in_the_middle_fails_alone(run):
    results = upsert(
        run,
        [
            {"email": "a@example.com"},
            {"email": "not-an-email"},
            {"email": "c@example.com", "first_name": "Carl"},
        ],
    )
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[1]["id"] is None and set(results[1]["errors"]) == {"email"}
    assert results[0]["errors"] is None
    stored = run(contacts.find_contacts)["data"]
    assert {c["email"] for c in stored} == {"a@example.com", "c@example.com"}
    assert run(contacts.get_contact, results[2]["id"])["first_name"] == "Carl"


def test_a_conflicting_item_fails_alone(run, create):
    holder = create(email="taken@example.com")
    results = upsert(
        run,
        [
            {"user_id": "u-new", "email": "a@example.com"},
            {"user_id": "u-new", "email": "TAKEN@example.com"},
            {"email": "c@example.com"},
        ],
    )
    assert [r["status"] for r in results] == ["created", "error", "created"]
    # The second item is the first contact (same user_id) asking for another's email.
    assert results[1]["id"] == results[0]["id"]
    assert results[1]["errors"] == {"email": ["belongs to another contact"]}
    assert run(contacts.get_contact, results[0]["id"])["email"] == "a@example.com"
    assert run(contacts.get_contact, holder["id"])["email"] == "taken@example.com"


def test_items_are_matched_by_user_id_then_email_then_phone(run, create):
    by_user = create(user_id="u-1", email="one@example.com")
    by_email = create(email="two@example.com")
    by_phone = create(phone="+380501234567")
    results = upsert(
        run,
        [
            {"user_id": "u-1", "first_name": "One"},
            {"email": "TWO@example.com", "user_id": "u-2"},
            {"phone": "050 123 4567", "region": "UA", "last_name": "Three"},
            {"user_id": "u-4", "email": "four@example.com"},
        ],
    )
    assert [(r["status"], r["id"]) for r in results[:3]] == [
        ("updated", by_user["id"]),
        ("updated", by_email["id"]),
        ("updated", by_phone["id"]),
    ]
    assert results[3]["status"] == "created"
    assert run(contacts.get_contact, by_email["id"])["user_id"] == "u-2"
    assert run(contacts.get_contact, by_phone["id"])["last_name"] == "Three"


def test_an_update_changes_only_the_fields_given(run, create, outbox):
    contact = create(email="a@example.com", first_name="Ann", gender=2, language="en")
    [result] = upsert(run, [{"email": "a@example.com", "first_name": "Anna"}])
    stored = run(contacts.get_contact, contact["id"])
    assert result == {"index": 0, "status": "updated", "id": contact["id"], "errors": None}
    assert (stored["first_name"], stored["gender"], stored["language"]) == ("Anna", 2, "en")
    assert outbox("contact_updated")[-1]["changed"] == {"first_name": "Anna"}
    assert outbox("contact_updated")[-1]["actor"] == ACTOR


def test_an_unchanged_item_is_updated_without_an_event(run, create, outbox, clear_outbox):
    contact = create(email="a@example.com", first_name="Ann")
    clear_outbox()
    [result] = upsert(run, [{"email": "a@example.com", "first_name": "Ann"}])
    assert result["status"] == "updated"
    assert outbox() == []
    assert run(contacts.get_contact, contact["id"])["updated_at"] == contact["updated_at"]


def test_the_same_contact_twice_in_one_batch_is_created_then_updated(run):
    results = upsert(
        run,
        [
            {"email": "a@example.com", "first_name": "A"},
            {"email": "A@example.com", "last_name": "B"},
        ],
    )
    assert [r["status"] for r in results] == ["created", "updated"]
    assert results[0]["id"] == results[1]["id"]
    stored = run(contacts.get_contact, results[0]["id"])
    assert (stored["first_name"], stored["last_name"]) == ("A", "B")


def test_items_are_checked_like_single_contacts(run, registered):
    results = upsert(
        run,
        [
            "not an object",
            {"first_name": "no identifier"},
            {"email": "a@example.com", "status": "inactive"},
            {"email": "b@example.com", "source": "nowhere", "variables": {"plan": 1}},
            {
                "email": "c@example.com",
                "source": "shop",
                "variables": {"plan": "gold"},
                "categories": {"offers": True},
            },
        ],
    )
    assert [r["status"] for r in results] == ["error"] * 4 + ["created"]
    assert set(results[0]["errors"]) == {"_schema"}
    assert set(results[1]["errors"]) == {"user_id", "email", "phone"}
    assert results[2]["errors"] == {"status": ["read-only field"]}
    assert set(results[3]["errors"]) == {"source", "variables.plan"}


def test_events_are_recorded_for_the_stored_items_only(run, outbox):
    results = upsert(
        run, [{"email": "a@example.com"}, {"email": "bad"}, {"phone": "+380501234567"}]
    )
    created = outbox("contact_created")
    assert [e["contact_id"] for e in created] == [results[0]["id"], results[2]["id"]]
    assert [[s["channel"] for s in e["subscribed"]] for e in created] == [["email"], ["sms"]]
    assert outbox("subscription_changed") == []  # listed in contact_created instead


@pytest.mark.parametrize("items", [[], [{}] * 1001, {"email": "a@example.com"}, None])
def test_the_batch_itself_holds_one_to_a_thousand_items(run, items):
    with pytest.raises(Invalid) as caught:
        upsert(run, items)
    assert set(caught.value.errors) == {"contacts"}


def test_a_batch_reads_the_database_a_fixed_number_of_times(run, create, engine, registered):
    stored = [create(email=f"old{n}@example.com") for n in range(50)]
    items = [
        {
            "email": c["email"],
            "first_name": "Old",
            "source": "website",
            "variables": {"plan": "gold"},
            "categories": {"offers": True},
        }
        for c in stored
    ]
    items += [
        {
            "email": f"new{n}@example.com",
            "phone": f"+38050{n:07d}",
            "source": "shop",
            "variables": {"visits": n},
        }
        for n in range(150)
    ]
    selects = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        results = upsert(run, items)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r["status"] for r in results] == ["updated"] * 50 + ["created"] * 150
    # references (3) + identifier holders with their resource parts (1 + 4)
    assert len(selects) <= 8, selects


def test_an_item_the_database_refuses_fails_alone(create, run, monkeypatch):
    create(email="taken@example.com")
    # Matching sees no holder (as in a race), so the unique key refuses the second item;
    # its savepoint is rolled back and the third still goes in.
    monkeypatch.setattr(Owners, "load", classmethod(lambda cls, *args, **kwargs: cls()))
    results = upsert(
        run,
        [{"email": "a@example.com"}, {"email": "taken@example.com"}, {"email": "c@example.com"}],
    )
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert results[1]["errors"] == {"email": ["belongs to another contact"]}
    assert len(run(contacts.find_contacts)["data"]) == 3


def test_a_clean_batch_is_written_by_a_statement_a_table(run, engine):
    """Not a savepoint and a flush an item: the good items go in together, one multi-row
    INSERT for each table (contacts, subscriptions, the ledger, the outbox)."""
    items = [
        {"email": f"new{n}@example.com", "phone": f"+38050{n:07d}", "first_name": "N"}
        for n in range(200)
    ]
    statements, flushes = [], []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    def flushed(session, context):
        flushes.append(session)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(Session, "after_flush", flushed)
    try:
        results = upsert(run, items)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(Session, "after_flush", flushed)
    assert [r["status"] for r in results] == ["created"] * 200
    assert statements.count("SAVEPOINT") == 1  # the batch's own, not one an item
    assert statements.count("INSERT") == 4
    assert len(flushes) <= 1
    assert len(run(contacts.find_contacts, limit=200)["data"]) == 200
