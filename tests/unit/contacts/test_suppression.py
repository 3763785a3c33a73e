"""Suppression after erasure: an erased contact's black-listed or unsubscribed addresses
stay as keyed hashes only, and a contact that later takes one starts unsubscribed (and
black-listed) again, by the API, an import, a change or a registered chat."""

import pytest
from sqlalchemy import event, inspect, select, text

from plexus.config import PROJECT_ROOT
from plexus.secretcheck import WeakSecret
from services.contacts import settings
from services.contacts.logic import batch, blacklists, channels, contacts, subscriptions
from services.contacts.logic.contacts import get_contact
from services.contacts.models import SuppressedAddress

ACTOR = "crm-sync"
CLERK = "support-desk"


@pytest.fixture
def engine(engine_on_either):
    """The rules on both databases (prefix search, multi-row reads and deletes differ)."""
    return engine_on_either


EMAIL, PHONE = "zora@example.com", "+380501234567"


def ledger(run, contact_id):
    entries = run(subscriptions.subscription_history, contact_id, 50, None)["data"]
    return [
        (e["channel"], e["previous_status"], e["status"], e["reason"], e["actor"])
        for e in reversed(entries)
    ]


def rows_mentioning(engine, *values) -> list[str]:
    """Every table whose rows hold one of `values` as text."""
    hits = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                flat = " ".join(str(value) for value in row).lower()
                hits += [f"{table}: {v}" for v in values if v.lower() in flat]
    return hits


@pytest.fixture
def erased(run, create, engine):
    """A contact erased with its email unsubscribed and its phone black-listed."""
    made = create(email=EMAIL, phone=PHONE, first_name="Zora")
    run(
        subscriptions.set_subscription,
        made["id"],
        "email",
        {"status": "unsubscribed", "reason": "too many"},
        CLERK,
    )
    run(blacklists.add_to_blacklist, made["id"], "phone", {"reason": "asked"}, CLERK)
    run(contacts.delete_contact, made["id"], CLERK)
    return made


def test_erasure_keeps_hashes_only(erased, run, engine, sessions):
    assert rows_mentioning(engine, EMAIL, PHONE, "Zora") == []
    with sessions() as session:
        kept = {
            (row.kind, row.unsubscribed, row.blacklisted)
            for row in session.scalars(select(SuppressedAddress))
        }
        digests = session.scalars(select(SuppressedAddress.digest)).all()
    assert kept == {("email", True, False), ("phone", False, True)}
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)
    assert run(blacklists.list_entries, "phone", None, 50, None)["data"] == []


def test_an_address_neither_listed_nor_unsubscribed_leaves_nothing(run, create, sessions):
    made = create(email=EMAIL, phone=PHONE)
    run(contacts.delete_contact, made["id"], ACTOR)
    with sessions() as session:
        assert session.scalars(select(SuppressedAddress)).all() == []
    again = create(email=EMAIL, phone=PHONE)
    assert again["subscriptions"]["email"]["status"] == "subscribed"


def test_a_contact_created_with_the_addresses_starts_as_the_erased_one_ended(
    erased, run, create, sessions, outbox
):
    made = create(email=EMAIL, phone=PHONE)
    assert made["subscriptions"]["email"] == {
        "status": "unsubscribed",
        "changed_at": made["subscriptions"]["email"]["changed_at"],
        "reason": "suppressed before erasure",
    }
    assert made["subscriptions"]["sms"]["status"] == "subscribed"  # only black-listed
    assert made["blacklists"]["phone"]["reason"] == "suppressed before erasure"
    assert made["blacklists"]["email"] is None
    assert run(get_contact, made["id"]) == made
    assert [
        (e["value"], e["source"])
        for e in run(blacklists.list_entries, "phone", None, 50, None)["data"]
    ] == [(PHONE, "erased")]
    assert ledger(run, made["id"]) == [
        ("email", "never", "unsubscribed", "suppressed before erasure", "suppression"),
        ("sms", "never", "subscribed", "address added", ACTOR),
    ]
    # Announced as any new contact's state is: in its event, and the black list's own.
    created = outbox("contact_created")[-1]
    assert [(s["channel"], s["status"]) for s in created["subscribed"]] == [
        ("email", "unsubscribed"),
        ("sms", "subscribed"),
    ]
    assert outbox("blacklist_changed")[-1]["contact_id"] == made["id"]
    # Used up: the contact's own state says it from here on.
    with sessions() as session:
        assert session.scalars(select(SuppressedAddress)).all() == []


def test_an_import_restores_them_with_one_query_for_the_batch(erased, run, engine):
    sent = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    items = [{"email": f"p{n}@example.com"} for n in range(30)]
    items.insert(7, {"email": EMAIL.upper(), "phone": PHONE})
    results = run(batch.batch_upsert, items, ACTOR)["results"]
    assert {r["status"] for r in results} == {"created"}
    assert (
        len([s for s in sent if "suppressed_addresses" in s and s.lstrip().startswith("SELECT")])
        == 1
    )
    made = run(get_contact, results[7]["id"])
    assert made["subscriptions"]["email"]["reason"] == "suppressed before erasure"
    assert made["subscriptions"]["email"]["status"] == "unsubscribed"
    assert made["blacklists"]["phone"]["reason"] == "suppressed before erasure"
    assert ledger(run, made["id"])[0] == (
        "email",
        "never",
        "unsubscribed",
        "suppressed before erasure",
        "suppression",
    )
    assert run(get_contact, results[0]["id"])["subscriptions"]["email"]["status"] == "subscribed"


def test_a_contact_given_the_address_later_starts_unsubscribed_on_a_new_channel(
    erased, run, create, sessions
):
    made = create(phone="+380501230000")
    changed = run(contacts.update_contact, made["id"], {"email": EMAIL}, ACTOR)
    assert changed["subscriptions"]["email"]["status"] == "unsubscribed"
    assert ledger(run, made["id"])[-1] == (
        "email",
        "never",
        "unsubscribed",
        "suppressed before erasure",
        "suppression",
    )


def test_a_contact_with_a_consent_of_its_own_keeps_it(erased, run, create, sessions):
    made = create(email="other@example.com")
    changed = run(contacts.update_contact, made["id"], {"email": EMAIL}, ACTOR)
    assert changed["subscriptions"]["email"]["status"] == "subscribed"
    with sessions() as session:  # used up all the same
        kinds = session.scalars(select(SuppressedAddress.kind)).all()
    assert kinds == ["phone"]


def test_a_registered_chat_or_viber_id_is_suppressed_too(run, create):
    made = create(email="a@example.com")
    run(channels.set_channel_address, made["id"], "telegram", {"chat_id": 42}, ACTOR)
    run(channels.set_channel_address, made["id"], "viber", {"user_id": "vb-1"}, ACTOR)
    run(subscriptions.set_subscription, made["id"], "telegram", {"status": "unsubscribed"}, CLERK)
    run(blacklists.add_to_blacklist, made["id"], "viber", None, CLERK)
    run(contacts.delete_contact, made["id"], CLERK)

    later = create(email="b@example.com")
    run(channels.set_channel_address, later["id"], "telegram", {"chat_id": "42"}, ACTOR)
    answer = run(channels.set_channel_address, later["id"], "viber", {"user_id": "vb-1"}, ACTOR)
    assert answer["subscriptions"]["telegram"]["status"] == "unsubscribed"
    assert answer["subscriptions"]["viber"]["status"] == "subscribed"
    assert answer["blacklists"]["viber"]["reason"] == "suppressed before erasure"
    assert run(get_contact, later["id"]) == answer


def test_erasing_again_keeps_what_holds_then(erased, run, create, sessions):
    made = create(email=EMAIL, phone=PHONE)
    run(
        subscriptions.set_subscription,
        made["id"],
        "email",
        {"status": "subscribed", "reason": "opted in"},
        CLERK,
    )
    run(blacklists.remove_from_blacklist, made["id"], "phone", CLERK)
    run(contacts.delete_contact, made["id"], CLERK)
    with sessions() as session:
        assert session.scalars(select(SuppressedAddress)).all() == []
    again = create(email=EMAIL, phone=PHONE)
    assert again["subscriptions"]["email"]["status"] == "subscribed"
    assert again["blacklists"]["phone"] is None


def test_another_secret_recognises_nothing(erased, run, sessions):
    other = sessions.kw["info"] | {"suppression_key": b"another"}
    sessions.configure(info=other)
    made = run(contacts.create_contact, {"email": EMAIL}, ACTOR)
    assert made["subscriptions"]["email"]["status"] == "subscribed"


def test_the_secret_is_configured_and_a_placeholder_stops_the_service(tmp_path):
    # Not through load_config here: nameko's loader makes every yaml.safe_load in the
    # process substitute ${...} afterwards (tests/deploy reads docker-compose.yml).
    assert (
        'suppression_secret: !raw_env_var "${PLEXUS_SUPPRESSION_SECRET:}"'
        in (PROJECT_ROOT / "config.yaml").read_text()
    )
    strong = "k" + "0123456789abcdef" * 3
    assert settings.suppression_secret({"CONTACTS": {"suppression_secret": strong}}) == strong
    with pytest.raises(WeakSecret) as caught:
        settings.suppression_secret({"CONTACTS": {"suppression_secret": "change-me"}})
    assert "PLEXUS_SUPPRESSION_SECRET" in str(caught.value)
    # None configured: one made once into the data directory, the same for every process.
    kept = settings.suppression_secret({"DATA_DIR": str(tmp_path)})
    assert (tmp_path / "suppression-secret").read_text() == kept
    assert settings.suppression_secret({"DATA_DIR": str(tmp_path)}) == kept
