"""resolve_refs: a batch of references answered as get_contact / find_contacts answer
each one, in a few queries; resolve_or_create: the contacts events and orders name by
identifiers made, once."""

from sqlalchemy import event

from plexus.errors import Invalid, NotFound, PlexusError
from services.contacts.logic import contacts, resolution
from services.contacts.logic.resolution import resolve_or_create, resolve_refs
from tests.unit.contacts.conftest import ACTOR

UNKNOWN_ID = "01jdx00000000000000000000z"


def one_by_one(run, ref: dict) -> dict:
    """What the single-contact RPCs say of a reference, in resolve_refs' terms."""
    try:
        if ref.get("id"):
            return {"id": run(contacts.get_contact, ref["id"])["id"]}
        found = run(
            contacts.find_contacts,
            user_id=ref.get("user_id"),
            email=ref.get("email"),
            phone=ref.get("phone"),
        )["data"]
    except NotFound:
        return {"not_found": True}
    except Invalid as error:
        return {"invalid": error.errors}
    except PlexusError:
        raise
    return {"id": found[0]["id"]} if len(found) == 1 else {"not_found": True}


def test_each_reference_is_answered_as_the_single_lookups_answer_it(run):
    ann = run(
        contacts.create_contact,
        {"user_id": "u-ann", "email": "ann@example.com", "phone": "+380501234567"},
        ACTOR,
    )
    bob = run(contacts.create_contact, {"email": "bob@example.com"}, ACTOR)
    refs = [
        {"id": ann["id"]},
        {"id": UNKNOWN_ID},
        {"email": "ANN@example.com"},
        {"user_id": "u-ann", "email": "ann@example.com"},
        {"phone": "+380 50 123 45 67"},
        {"phone": "not a phone"},
        {"phone": "0501234567"},
        {"user_id": "u-ann", "email": "bob@example.com"},  # two contacts: none
        {"email": bob["email"]},
        {"email": "nobody@example.com"},
        {"user_id": "u-bob"},
    ]
    answers = run(resolve_refs, refs)
    assert answers == [one_by_one(run, ref) for ref in refs]
    assert [a.get("id") for a in answers] == [
        ann["id"],
        None,
        ann["id"],
        ann["id"],
        ann["id"],
        None,
        None,
        None,
        bob["id"],
        None,
        None,
    ]
    assert "phone" in answers[5]["invalid"]


def test_a_batch_takes_a_few_queries_whatever_its_size(run, engine):
    made = [run(contacts.create_contact, {"email": f"p{n}@example.com"}, ACTOR) for n in range(50)]
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    answers = run(
        resolve_refs, [{"email": c["email"]} for c in made] + [{"id": c["id"]} for c in made]
    )
    assert [a["id"] for a in answers] == [c["id"] for c in made] * 2
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_events_and_orders_make_the_contacts_they_name_once(run, outbox):
    ann = run(contacts.create_contact, {"email": "ann@example.com"}, ACTOR)
    refs = [
        {"email": "new@example.com"},
        {"email": "NEW@example.com"},  # the same person, in this batch
        {"user_id": "shop-7", "phone": "+380 50 765 43 21"},
        {"id": UNKNOWN_ID},  # an id names no contact to make
        {"email": "not an email"},
        {"user_id": "shop-8", "email": "ann@example.com"},  # ann's email, another user_id
        {"email": "ann@example.com"},
    ]
    answers = run(resolve_or_create, refs, "event", "shop-key")
    assert answers[0] == answers[1] and "id" in answers[0]
    assert "id" in answers[2]
    assert answers[3] == {"not_found": True}
    assert list(answers[4]["invalid"]) == ["email"]
    assert answers[5] == {"conflict": {"email": ["belongs to another contact"]}}
    assert answers[6] == {"id": ann["id"]}

    made = run(contacts.get_contact, answers[2]["id"])
    assert (made["user_id"], made["phone"], made["created_via"]) == (
        "shop-7",
        "+380507654321",
        "event",
    )
    assert run(contacts.get_contact, answers[0]["id"])["subscriptions"]["email"]["status"] == (
        "subscribed"
    )
    created = outbox("contact_created")
    assert [(c["contact_id"], c["actor"]) for c in created[1:]] == [
        (answers[0]["id"], "shop-key"),
        (answers[2]["id"], "shop-key"),
    ]
    # Retried: found, none made again; an order's contact says so.
    assert run(resolve_or_create, refs[:3], "order", "shop-key") == answers[:3]
    [order_made] = run(resolve_or_create, [{"user_id": "shop-9"}], "order", "shop-key")
    assert run(contacts.get_contact, order_made["id"])["created_via"] == "order"
    assert len(outbox("contact_created")) == 4
    # Without created_via, nothing is made (resolve_refs as before).
    assert run(resolve_or_create, [{"user_id": "shop-10"}], None, "x") == [{"not_found": True}]


def test_a_contact_another_request_made_meanwhile_is_found_not_made_again(run, monkeypatch, outbox):
    winner = run(contacts.create_contact, {"email": "race@example.com"}, ACTOR)
    real = resolution.resolve_refs
    calls = []

    def looked_up_before_the_other_committed(session, refs):
        calls.append(refs)
        return [resolution.NOT_FOUND] * len(refs) if len(calls) == 1 else real(session, refs)

    monkeypatch.setattr(resolution, "resolve_refs", looked_up_before_the_other_committed)
    answers = run(resolve_or_create, [{"email": "race@example.com"}], "event", "shop-key")
    assert answers == [{"id": winner["id"]}]
    assert len(outbox("contact_created")) == 1
