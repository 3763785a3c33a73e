"""The account's black lists of addresses: entries whether or not a contact has the
address, a contact listed while its current address is on a list (on both read paths),
and blacklist_changed for each contact whose state a change moves."""

import pytest
from sqlalchemy import event

from plexus.errors import Conflict, Invalid, NotFound
from services.contacts.logic import batch, blacklists, channels, contacts
from services.contacts.logic.contacts import get_contact

ACTOR = "crm-sync"
CLERK = "support-desk"


@pytest.fixture
def engine(engine_on_either):
    """The rules on both databases (prefix search, multi-row reads and deletes differ)."""
    return engine_on_either


def moves(outbox):
    """Each blacklist_changed so far: (contact_id, list, blacklisted, reason, actor)."""
    return [
        (p["contact_id"], p["list"], p["blacklisted"], p["reason"], p["actor"])
        for p in outbox("blacklist_changed")
    ]


def entries(run, list_name, **page):
    return run(
        blacklists.list_entries,
        list_name,
        page.pop("q", None),
        page.pop("limit", 50),
        page.pop("cursor", None),
    )


def test_an_address_no_contact_has_is_listed_and_a_contact_taking_it_reads_listed(
    run, create, outbox
):
    entry = run(blacklists.put_entry, "email", " Olena@Example.COM ", {"reason": "bounced"}, CLERK)
    assert entry == {
        "value": "olena@example.com",
        "added_at": entry["added_at"],
        "reason": "bounced",
        "source": "manual",
    }
    assert moves(outbox) == []  # nobody had it

    made = create(email="olena@example.com")
    assert made["blacklists"]["email"] == {"since": entry["added_at"], "reason": "bounced"}
    assert run(get_contact, made["id"]) == made
    assert moves(outbox) == [(made["id"], "email", True, "bounced", ACTOR)]


def test_changing_the_address_changes_the_contacts_state(run, create, outbox, clear_outbox):
    run(blacklists.put_entry, "phone", "+380501234567", {"reason": "asked"}, CLERK)
    made = create(email="a@example.com", phone="+380501234567")
    assert made["blacklists"]["phone"]["reason"] == "asked"
    clear_outbox()

    moved = run(contacts.update_contact, made["id"], {"phone": "+380501234568"}, ACTOR)
    assert moved["blacklists"]["phone"] is None
    assert run(get_contact, made["id"]) == moved
    back = run(contacts.update_contact, made["id"], {"phone": "+380501234567"}, ACTOR)
    assert back["blacklists"]["phone"]["reason"] == "asked"
    cleared = run(contacts.update_contact, made["id"], {"phone": None}, ACTOR)
    assert cleared["blacklists"]["phone"] is None
    assert moves(outbox) == [
        (made["id"], "phone", False, None, ACTOR),
        (made["id"], "phone", True, "asked", ACTOR),
        (made["id"], "phone", False, None, ACTOR),
    ]
    # The entry is the address's: it stays, and the list still shows it.
    assert [e["value"] for e in entries(run, "phone")["data"]] == ["+380501234567"]


def test_a_viber_id_on_the_list_lists_the_contact_that_registers_it(run, create, outbox):
    run(blacklists.put_entry, "viber", "vb/Id+1=", None, CLERK)
    listed, other = create(email="a@example.com"), create(email="b@example.com")
    run(channels.set_channel_address, other["id"], "viber", {"user_id": "vb-2"}, ACTOR)
    answer = run(
        channels.set_channel_address, listed["id"], "viber", {"user_id": "vb/Id+1="}, ACTOR
    )
    assert answer["blacklists"]["viber"]["reason"] is None
    assert run(get_contact, listed["id"]) == answer
    assert run(get_contact, other["id"])["blacklists"]["viber"] is None
    assert moves(outbox) == [(listed["id"], "viber", True, None, ACTOR)]
    moved = run(channels.set_channel_address, listed["id"], "viber", {"user_id": "vb-3"}, ACTOR)
    assert moved["blacklists"]["viber"] is None
    assert moves(outbox)[-1] == (listed["id"], "viber", False, None, ACTOR)


def test_the_contact_routes_list_and_unlist_its_current_address(run, create, outbox):
    made = create(email="a@example.com")
    listed = run(blacklists.add_to_blacklist, made["id"], "email", {"reason": "spam trap"}, CLERK)
    assert listed["blacklists"]["email"]["reason"] == "spam trap"
    assert [(e["value"], e["source"]) for e in entries(run, "email")["data"]] == [
        ("a@example.com", "manual")
    ]
    # Whoever put it there: the contact route takes off an entry the list route made.
    run(blacklists.delete_entry, "email", "a@example.com", CLERK)
    run(blacklists.put_entry, "email", "a@example.com", {"reason": "again"}, CLERK)
    unlisted = run(blacklists.remove_from_blacklist, made["id"], "email", CLERK)
    assert unlisted["blacklists"]["email"] is None
    assert entries(run, "email")["data"] == []
    assert [m[2] for m in moves(outbox)] == [True, False, True, False]


def test_a_contact_without_the_address_cannot_be_listed(run, create):
    made = create(email="a@example.com")
    for list_name, field in (("phone", "phone"), ("viber", "channels.viber")):
        with pytest.raises(Conflict) as caught:
            run(blacklists.add_to_blacklist, made["id"], list_name, {}, CLERK)
        assert set(caught.value.errors) == {field}
        with pytest.raises(Conflict):
            run(blacklists.remove_from_blacklist, made["id"], list_name, CLERK)


def test_values_are_read_as_the_contacts_own_and_bad_ones_name_the_field(run):
    assert (
        run(blacklists.put_entry, "phone", "+38 (050) 123-45-67", None, CLERK)["value"]
        == "+380501234567"
    )
    for list_name, value in (
        ("email", "not-an-email"),
        ("phone", "0501234567"),
        ("phone", "+3805"),
        ("viber", ""),
        ("viber", "v" * 101),
    ):
        with pytest.raises(Invalid) as caught:
            run(blacklists.put_entry, list_name, value, None, CLERK)
        assert set(caught.value.errors) == {"value"}, (list_name, value)
        with pytest.raises(Invalid):
            run(blacklists.delete_entry, list_name, value, CLERK)
    with pytest.raises(Invalid) as caught:
        run(blacklists.put_entry, "email", "a@example.com", {"reason": "x" * 501}, CLERK)
    assert set(caught.value.errors) == {"reason"}
    assert entries(run, "email")["data"] == []  # nothing half-written


def test_an_unknown_list_or_an_address_not_listed_is_not_found(run):
    for call in (
        lambda: run(blacklists.put_entry, "pigeon", "x", None, CLERK),
        lambda: entries(run, "pigeon"),
        lambda: run(blacklists.delete_entry, "pigeon", "x", CLERK),
        lambda: run(blacklists.delete_entry, "email", "a@example.com", CLERK),
        lambda: run(blacklists.blacklist_address, "pigeon", "x", None, "manual", CLERK),
    ):
        with pytest.raises(NotFound):
            call()


def test_putting_again_keeps_when_and_how_and_takes_the_new_reason(run):
    first = run(
        blacklists.blacklist_address,
        "email",
        "a@example.com",
        "550 no such user",
        "hard_bounce",
        "webhook:smtp",
    )
    assert first == {"added": True}
    again = run(blacklists.put_entry, "email", "a@example.com", {"reason": "checked"}, CLERK)
    assert again["source"] == "hard_bounce" and again["reason"] == "checked"


def test_blacklist_address_is_idempotent_and_keeps_the_entry(run, create, outbox):
    made = create(email="a@example.com")
    assert run(
        blacklists.blacklist_address,
        "email",
        "A@example.com",
        "complaint",
        "complaint",
        "webhook:smtp",
    ) == {"added": True}
    assert run(
        blacklists.blacklist_address,
        "email",
        "a@example.com",
        "bounce",
        "hard_bounce",
        "webhook:smtp",
    ) == {"added": False}
    assert entries(run, "email")["data"][0]["source"] == "complaint"
    assert entries(run, "email")["data"][0]["reason"] == "complaint"
    assert moves(outbox) == [(made["id"], "email", True, "complaint", "webhook:smtp")]
    with pytest.raises(Invalid) as caught:
        run(blacklists.blacklist_address, "email", "b@example.com", None, "guess", CLERK)
    assert set(caught.value.errors) == {"source"}


def test_entries_page_in_address_order_and_q_is_a_prefix(run):
    for value in (
        "b@example.com",
        "a1@example.com",
        "a2@example.com",
        "a_@example.com",
        "c@example.com",
    ):
        run(blacklists.put_entry, "email", value, None, CLERK)
    first = entries(run, "email", limit=2)
    assert [e["value"] for e in first["data"]] == ["a1@example.com", "a2@example.com"]
    second = entries(run, "email", limit=2, cursor=first["next_cursor"])
    assert [e["value"] for e in second["data"]] == ["a_@example.com", "b@example.com"]
    last = entries(run, "email", limit=2, cursor=second["next_cursor"])
    assert [e["value"] for e in last["data"]] == ["c@example.com"]
    assert last["next_cursor"] is None
    assert [e["value"] for e in entries(run, "email", q="A")["data"]] == [
        "a1@example.com",
        "a2@example.com",
        "a_@example.com",
    ]
    # _ and % are letters here, not LIKE's wildcards.
    assert [e["value"] for e in entries(run, "email", q="a_")["data"]] == ["a_@example.com"]
    run(blacklists.put_entry, "phone", "+380501234567", None, CLERK)
    # An unencoded + in a query string arrives as a space, which the reading trims.
    for q in ("+38050", "38050"):
        assert [e["value"] for e in entries(run, "phone", q=q)["data"]] == ["+380501234567"]
    run(blacklists.put_entry, "viber", "AbC", None, CLERK)
    run(blacklists.put_entry, "viber", "abc", None, CLERK)
    assert [e["value"] for e in entries(run, "viber", q="ab")["data"]] == ["abc"]


def test_an_import_lists_contacts_by_their_addresses_in_a_few_queries(
    run, engine, outbox, clear_outbox
):
    run(blacklists.put_entry, "email", "listed@example.com", {"reason": "bounced"}, CLERK)
    stored = run(contacts.create_contact, {"user_id": "u-0", "email": "listed@example.com"}, ACTOR)
    clear_outbox()
    sent = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    items = [{"user_id": f"u-{n}", "email": f"p{n}@example.com"} for n in range(1, 40)]
    items += [
        {"user_id": "u-0", "email": "moved@example.com"},
        {"email": "listed@example.com", "user_id": "u-new"},
    ]
    results = run(batch.batch_upsert, items, ACTOR)["results"]
    assert [r["status"] for r in results] == ["created"] * 39 + ["updated", "created"]
    reads = [s for s in sent if "blacklist_entries" in s and s.lstrip().startswith("SELECT")]
    assert len(reads) == 1
    new_id = results[-1]["id"]
    assert run(get_contact, new_id)["blacklists"]["email"]["reason"] == "bounced"
    assert run(get_contact, stored["id"])["blacklists"]["email"] is None
    assert moves(outbox) == [
        (stored["id"], "email", False, None, ACTOR),
        (new_id, "email", True, "bounced", ACTOR),
    ]
    created = next(p for p in outbox("contact_created") if p["contact_id"] == new_id)
    assert created["contact"]["blacklists"]["email"]["reason"] == "bounced"
