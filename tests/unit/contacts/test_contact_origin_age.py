"""created_via (how a contact arrived) and age (whole years from the birthday, at read
time) on every path that shows a contact: the write's answer, the one-statement read,
an import's event."""

from datetime import UTC, date, datetime

import pytest

from plexus.contract import events
from plexus.errors import Invalid
from services.contacts.logic import batch, contacts, representation
from services.contacts.logic.representation import age

ACTOR = "crm-sync"


@pytest.mark.parametrize(
    ("born", "today", "years"),
    [
        ("1990-06-15", date(2026, 6, 14), 35),
        ("1990-06-15", date(2026, 6, 15), 36),
        ("2000-02-29", date(2025, 2, 28), 24),
        ("2000-02-29", date(2025, 3, 1), 25),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
        (None, date(2026, 1, 1), None),
    ],
)
def test_age_is_whole_years_since_the_birthday(born, today, years):
    assert age(born, today) == years


def _today(monkeypatch, day: str) -> None:
    moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    monkeypatch.setattr(representation, "utcnow", lambda: moment)


def test_an_api_contact_says_api_and_its_age_reads_the_same_later(run, create, monkeypatch):
    _today(monkeypatch, "2026-11-30")
    made = create(email="olena@example.com", birthday="1990-12-01")
    assert (made["created_via"], made["age"]) == ("api", 35)
    read = run(contacts.get_contact, made["id"])
    assert (read["created_via"], read["age"]) == ("api", 35)
    _today(monkeypatch, "2026-12-01")  # her birthday: a year older, though nothing changed
    assert run(contacts.get_contact, made["id"])["age"] == 36
    assert create(email="no-birthday@example.com")["age"] is None


def test_imported_contacts_say_import_updated_ones_keep_theirs(run, create, outbox):
    kept = create(email="kept@example.com")
    results = run(
        batch.batch_upsert,
        [
            {"email": "new@example.com", "birthday": "2000-01-01"},
            {"email": "kept@example.com", "first_name": "K"},
        ],
        ACTOR,
    )["results"]
    assert [r["status"] for r in results] == ["created", "updated"]
    new = run(contacts.get_contact, results[0]["id"])
    assert new["created_via"] == "import" and isinstance(new["age"], int)
    assert run(contacts.get_contact, kept["id"])["created_via"] == "api"
    created = [p for p in outbox(events.CONTACT_CREATED) if p["contact_id"] == new["id"]]
    assert created[0]["contact"]["created_via"] == "import"


@pytest.mark.parametrize("field", ["created_via", "age"])
def test_created_via_and_age_are_read_only(run, create, field):
    with pytest.raises(Invalid) as raised:
        create(email="ro@example.com", **{field: "form" if field == "created_via" else 3})
    assert raised.value.errors == {field: ["read-only field"]}
    made = create(email="ro2@example.com")
    with pytest.raises(Invalid) as raised:
        run(contacts.update_contact, made["id"], {field: None}, ACTOR)
    assert raised.value.errors == {field: ["read-only field"]}
