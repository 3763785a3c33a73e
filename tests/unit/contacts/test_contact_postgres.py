"""The rules whose SQL differs by database, on PostgreSQL: unique-key races named from
psycopg2's message, JSON look-ups, savepoints after a failed statement."""

import pytest

from plexus.db import make_engine
from plexus.errors import Conflict
from services.contacts.logic import batch, channels, contacts, variables
from services.contacts.logic.conflicts import flush
from services.contacts.logic.identifiers import Owners
from services.contacts.models import Base, ChannelAddress

pytestmark = pytest.mark.postgres

ACTOR = "crm-sync"


@pytest.fixture
def engine(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_a_race_on_an_identifier_is_a_conflict_naming_it(create, run):
    create(phone="+380501234567")

    def insert_unaware_of_the_first(session):
        contacts.insert(session, {"phone": "+380501234567"}, Owners(), ACTOR)

    with pytest.raises(Conflict) as caught:
        run(insert_unaware_of_the_first)
    assert caught.value.errors == {"phone": ["belongs to another contact"]}


def test_a_race_on_a_chat_id_is_a_conflict_naming_it(create, run):
    first, second = create(email="a@example.com"), create(email="b@example.com")
    run(channels.set_channel_address, first["id"], "telegram", {"chat_id": 7}, ACTOR)

    def register_unaware_of_the_first(session):
        session.add(ChannelAddress(contact_id=second["id"], channel="telegram", address="7"))
        flush(session, {"address": "chat_id"})

    with pytest.raises(Conflict) as caught:
        run(register_unaware_of_the_first)
    assert caught.value.errors == {"chat_id": ["belongs to another contact"]}


def test_a_batch_goes_on_after_an_item_the_database_refused(create, run, monkeypatch):
    create(email="taken@example.com")
    # Matching sees no holder, so the database itself refuses the second item's insert;
    # its savepoint keeps the transaction usable for the third.
    monkeypatch.setattr(Owners, "load", classmethod(lambda cls, *args, **kwargs: cls()))
    results = run(
        batch.batch_upsert,
        [{"email": "a@example.com"}, {"email": "taken@example.com"}, {"email": "c@example.com"}],
        ACTOR,
    )["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert results[1]["errors"] == {"email": ["belongs to another contact"]}
    assert len(run(contacts.find_contacts)["data"]) == 3


def test_a_variable_held_by_a_contact_keeps_its_type(create, run):
    run(variables.create_variable, {"name": "vip", "type": "boolean"}, "tester")
    run(variables.create_variable, {"name": "plan", "type": "string"}, "tester")
    create(email="a@example.com", variables={"vip": False})
    with pytest.raises(Conflict):
        run(variables.update_variable, "vip", {"type": "string"}, "tester")
    assert run(variables.update_variable, "plan", {"type": "number"}, "tester")["type"] == "number"


def test_erasing_drops_the_contacts_unpublished_events(create, run, outbox):
    erased, kept = create(email="a@example.com"), create(email="b@example.com")
    run(contacts.delete_contact, erased["id"], ACTOR)
    assert [(name, payload["contact_id"]) for name, payload in outbox()] == [
        ("contact_created", kept["id"]),
        ("contact_deleted", erased["id"]),
    ]


def test_a_contact_erased_since_the_batch_read_it_is_created_again(run, monkeypatch):
    # The batch's one UPDATE ... FROM (VALUES ...) changes no row for a contact that is gone;
    # the batch then goes item by item, where the item matches nothing and is created.
    from services.contacts.logic import contact_rows

    gone = contact_rows.ContactRow(
        id="01gone0000000000000000000",
        email="a@example.com",
        status="active",
        gender=0,
        contact_score=0.0,
        categories={},
        variables={},
    )
    real = contact_rows.stored
    monkeypatch.setattr(
        contact_rows, "stored", lambda session, condition: [gone, *real(session, condition)]
    )
    results = run(batch.batch_upsert, [{"email": "a@example.com", "first_name": "Ann"}], ACTOR)[
        "results"
    ]
    assert [r["status"] for r in results] == ["created"]
    stored = run(contacts.find_contacts, email="a@example.com")["data"]
    assert [(c["id"], c["first_name"]) for c in stored] == [(results[0]["id"], "Ann")]
