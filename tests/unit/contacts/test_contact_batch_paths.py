"""The batch's two ways of writing give the same answer, the same stored contacts and
consent ledger, and the same events in the same order: the fast pass (plain rows, a few
multi-row statements) and the item-by-item retry through the ORM that a clash at the
write falls back to, as single requests are written."""

import contextlib
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, cast, event, select
from sqlalchemy.orm import sessionmaker

from plexus.db import ensure_schema, make_engine, transaction
from plexus.errors import Conflict
from services.contacts.logic import (
    batch,
    blacklists,
    catalog,
    contacts,
    subscriptions,
    variables,
)
from services.contacts.logic.writers import BatchWriter
from services.contacts.models import Base, Contact, Outbox
from tests.unit.database import CONTACTS_SESSION_INFO

ACTOR = "importer"
CONTACTS = Contact.__table__

# Few identifiers, so that items match stored contacts, each other, and clash.
USER_IDS = st.sampled_from(["u1", "u2", "u3", None])
EMAILS = st.sampled_from(["a@example.com", "B@example.com", "c@example.com", "bad", None])
PHONES = st.sampled_from(["+380501234561", "050 123 4562", "+380501234563", None])
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "user_id": USER_IDS,
        "email": EMAILS,
        "phone": PHONES,
        "region": st.just("UA"),
        "first_name": st.sampled_from(["Ann", "Bob", None]),
        "language": st.sampled_from(["uk", "en"]),
        "gender": st.sampled_from([0, 1, 2]),
        "address": st.sampled_from([{"country": "UA", "city": "Kyiv"}, None]),
        "categories": st.sampled_from([{"offers": True}, {"offers": False}, {"nope": True}]),
        "variables": st.sampled_from([{"plan": "gold"}, {"plan": None}, {"visits": 2}]),
        "source": st.sampled_from(["shop", "nowhere"]),
    },
)
STORED = st.lists(
    st.fixed_dictionaries(
        {
            "user_id": USER_IDS,
            "email": st.sampled_from(["a@example.com", "c@example.com", None]),
            "phone": st.sampled_from(["+380501234561", None]),
            "first_name": st.just("Stored"),
        }
    ),
    max_size=3,
)


def prepare(sessions, stored):
    run = runner(sessions)
    run(catalog.create_source, {"name": "shop"}, "tester")
    run(catalog.create_category, {"name": "offers"}, "tester")
    run(variables.create_variable, {"name": "plan", "type": "string"}, "tester")
    run(variables.create_variable, {"name": "visits", "type": "number"}, "tester")
    # Addresses on the black lists, and an erased contact's suppressed ones: items that
    # take them are listed, unsubscribed, black-listed again.
    run(blacklists.put_entry, "email", "c@example.com", {"reason": "listed"}, "setup")
    run(blacklists.put_entry, "phone", "+380501234563", None, "setup")
    gone = run(
        contacts.create_contact, {"email": "b@example.com", "phone": "+380501234562"}, "setup"
    )
    run(subscriptions.set_subscription, gone["id"], "email", {"status": "unsubscribed"}, "setup")
    run(blacklists.add_to_blacklist, gone["id"], "phone", None, "setup")
    run(contacts.delete_contact, gone["id"], "setup")
    for body in stored:
        with contextlib.suppress(Exception):  # clashing or empty ones are not stored
            run(contacts.create_contact, body, "setup")
    return run


def runner(sessions):
    def run(logic, *args, **kwargs):
        with transaction(sessions) as session:
            return logic(session, *args, **kwargs)

    return run


class Labels:
    """Contact ids as the order they first appear in, and no moments: what two
    databases written the same way have in common."""

    def __init__(self):
        self.names = {}

    def __call__(self, value, key=None):
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items() if k not in ("event_id", "occurred_at")}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if key in ("id", "contact_id") and isinstance(value, str):
            return self.names.setdefault(value, f"contact-{len(self.names)}")
        if key and (key.endswith("_at") or key == "since") and value is not None:
            return "moment"
        return value


def outcome(run, sessions, items, *, item_by_item, monkeypatch):
    with monkeypatch.context() as patch:
        if item_by_item:

            def clash(self, session):
                raise Conflict("a writer beside us")

            patch.setattr(BatchWriter, "write", clash)
        with transaction(sessions) as session:
            first_event = session.scalar(select(Outbox.id).order_by(Outbox.id.desc())) or 0
        results = run(batch.batch_upsert, items, ACTOR)["results"]
    label = Labels()
    answer = label(results)
    with transaction(sessions) as session:
        events = [
            (row.event_type, row.payload)
            for row in session.scalars(
                select(Outbox).where(Outbox.id > first_event).order_by(Outbox.id)
            )
        ]
    events = label(events)
    stored = []
    for contact in run(contacts.find_contacts, limit=100)["data"]:
        ledger = run(subscriptions.subscription_history, contact["id"], 50, None)["data"]
        stored.append((label(contact), [label(entry) for entry in ledger]))
    stored.sort(key=repr)
    stored += [
        label(entry)
        for name in ("email", "phone")
        for entry in run(blacklists.list_entries, name, None, 200, None)["data"]
    ]
    # The JSON columns as stored: SQL NULL and JSON null read back alike, but not in SQL.
    with transaction(sessions) as session:
        columns = [
            cast(CONTACTS.c[name], String) for name in ("address", "categories", "variables")
        ]
        raw = sorted(
            map(
                repr,
                session.execute(
                    select(CONTACTS.c.user_id, CONTACTS.c.email, CONTACTS.c.phone, *columns)
                ),
            )
        )
    return answer, events, stored, raw


def fresh_sqlite(directory, name):
    engine = make_engine(f"sqlite:///{directory}/{name}.db")
    Base.metadata.create_all(engine)
    return engine


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(stored=STORED, items=st.lists(ITEM, min_size=1, max_size=8))
# A new contact's address cleared by a later item: JSON null, where one never given is NULL.
@example(
    stored=[],
    items=[{"user_id": "u1", "address": {"country": "UA"}}, {"user_id": "u1", "address": None}],
)
def test_the_fast_pass_writes_what_item_by_item_writes(stored, items, monkeypatch):
    with tempfile.TemporaryDirectory() as directory:
        engines = [fresh_sqlite(directory, "fast"), fresh_sqlite(directory, "one_by_one")]
        try:
            fast, slow = (
                sessionmaker(engine, expire_on_commit=False, info=CONTACTS_SESSION_INFO)
                for engine in engines
            )
            fast_outcome = outcome(
                prepare(fast, stored), fast, items, item_by_item=False, monkeypatch=monkeypatch
            )
            slow_outcome = outcome(
                prepare(slow, stored), slow, items, item_by_item=True, monkeypatch=monkeypatch
            )
        finally:
            for engine in engines:
                engine.dispose()
    assert fast_outcome[0] == slow_outcome[0]  # the answer, item by item
    assert fast_outcome[1] == slow_outcome[1]  # the events, in order
    assert fast_outcome[2] == slow_outcome[2]  # the contacts and their ledgers
    assert fast_outcome[3] == slow_outcome[3]  # their JSON columns as stored


MIXED = [
    {
        "user_id": "u1",
        "email": "a@example.com",
        "phone": "050 123 4561",
        "region": "UA",
        "first_name": "Ann",
        "categories": {"offers": True},
        "variables": {"plan": "gold"},
    },
    {"email": "bad"},
    {"user_id": "u1", "phone": "+380501234562", "last_name": "Again"},
    {"email": "stored@example.com", "phone": "+380501234563", "first_name": "Now"},
    {"user_id": "u1", "email": "STORED@example.com"},  # held by the stored contact
    {
        "email": "new@example.com",
        "address": {"country": "UA", "city": "Lviv"},
        "source": "shop",
        "variables": {"visits": 3},
    },
    {"email": "new@example.com", "address": None},  # cleared: JSON null, as an UPDATE's
]


@pytest.mark.postgres
def test_the_fast_pass_writes_what_item_by_item_writes_on_postgres(postgres_url, monkeypatch):
    outcomes = []
    for schema in ("fast", "one_by_one"):
        engine = make_engine(postgres_url, schema)
        ensure_schema(engine, schema)
        Base.metadata.create_all(engine)
        try:
            sessions = sessionmaker(engine, expire_on_commit=False, info=CONTACTS_SESSION_INFO)
            run = prepare(sessions, [{"email": "stored@example.com", "first_name": "Then"}])
            outcomes.append(
                outcome(
                    run,
                    sessions,
                    MIXED,
                    item_by_item=schema == "one_by_one",
                    monkeypatch=monkeypatch,
                )
            )
        finally:
            engine.dispose()
    fast, slow = outcomes
    assert [r["status"] for r in fast[0]] == [
        "created",
        "error",
        "updated",
        "updated",
        "error",
        "created",
        "updated",
    ]
    assert fast == slow


def test_a_batch_makes_and_loads_no_orm_objects(tmp_path):
    engine = fresh_sqlite(tmp_path, "contacts")
    sessions = sessionmaker(engine, expire_on_commit=False, info=CONTACTS_SESSION_INFO)
    run = prepare(sessions, [{"email": f"old{n}@example.com"} for n in range(20)])
    items = [{"email": f"old{n}@example.com", "phone": f"+38050{n:07d}"} for n in range(20)]
    items += [{"email": f"new{n}@example.com", "first_name": "New"} for n in range(20)]
    made = []

    def count(target, *args):
        made.append(type(target).__name__)

    event.listen(Base, "init", count, propagate=True)
    event.listen(Base, "load", count, propagate=True)
    try:
        results = run(batch.batch_upsert, items, ACTOR)["results"]
    finally:
        event.remove(Base, "init", count)
        event.remove(Base, "load", count)
        engine.dispose()
    assert [r["status"] for r in results] == ["updated"] * 20 + ["created"] * 20
    assert made == []


def test_a_contact_erased_since_it_was_read_is_created_again(run, monkeypatch):
    """The fast pass matched an item to a contact that is gone when it writes (erased by a
    request beside it): its UPDATE changes no row, and the batch goes item by item, where
    the item matches nothing and is created."""
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
    results = run(
        batch.batch_upsert,
        [{"email": "a@example.com", "first_name": "Ann"}, {"email": "b@example.com"}],
        ACTOR,
    )["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    stored = run(contacts.find_contacts, email="a@example.com")["data"]
    assert [(c["id"], c["first_name"]) for c in stored] == [(results[0]["id"], "Ann")]


STORED_FULL = [
    {
        "user_id": "s1",
        "email": "s1@example.com",
        "birthday": "1990-01-02",
        "gender": 2,
        "address": {"country": "UA", "city": "Kyiv"},
        "contact_score": 1.5,
        "categories": {"offers": True},
        "variables": {"plan": "gold"},
        "timezone": "+02:00",
    },
    {"user_id": "s2", "phone": "+380501234561", "first_name": "Two"},
    {"user_id": "s3", "email": "s3@example.com", "language": "uk"},
]
UPDATES = [
    {
        "user_id": "s1",
        "birthday": None,
        "address": None,
        "contact_score": None,
        "categories": {"offers": False},
        "variables": {"plan": None, "visits": 4},
    },
    {
        "user_id": "s2",
        "birthday": "1985-05-05",
        "gender": 1,
        "email": "s2@example.com",
        "address": {"country": "PL"},
        "timezone": "Europe/Kyiv",
    },
    {"user_id": "s3", "email": "s1@example.com"},  # held by s1: refused
    {"user_id": "s3", "email": None, "phone": "+380501234563", "first_name": "Three"},
    {"user_id": "s2", "first_name": None, "contact_score": 2},
]


@pytest.mark.postgres
def test_stored_contacts_are_updated_alike_on_postgres(postgres_url, monkeypatch):
    """The fast pass updates stored contacts by one UPDATE ... FROM (VALUES ...) a set of
    changed columns on PostgreSQL: values of every type, and nulls, as the ORM writes."""
    outcomes = []
    for schema in ("fast", "one_by_one"):
        engine = make_engine(postgres_url, schema)
        ensure_schema(engine, schema)
        Base.metadata.create_all(engine)
        try:
            sessions = sessionmaker(engine, expire_on_commit=False, info=CONTACTS_SESSION_INFO)
            run = prepare(sessions, STORED_FULL)
            outcomes.append(
                outcome(
                    run,
                    sessions,
                    UPDATES,
                    monkeypatch=monkeypatch,
                    item_by_item=schema == "one_by_one",
                )
            )
        finally:
            engine.dispose()
    fast, slow = outcomes
    assert [r["status"] for r in fast[0]] == ["updated", "updated", "error", "updated", "updated"]
    assert fast == slow


def test_a_batch_wakes_the_outbox_relay_after_its_commit(sessions):
    woken = []
    with transaction(sessions, on_events=lambda: woken.append(True)) as session:
        batch.batch_upsert(session, [{"email": "a@example.com"}], ACTOR)
    assert woken == [True]
