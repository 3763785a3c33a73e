"""queue_batch: a campaign's messages queued as a set, idempotent by key; on SQLite with
a fake contacts service, and a race between two callers on PostgreSQL."""

import functools
import threading

import pytest
from sqlalchemy import func, select

from plexus.db import make_engine, transaction
from plexus.errors import Invalid
from services.messaging.logic import bounces, claims, messages, templates
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.sending import send_message
from services.messaging.models import Base, DeliveryOutbox, Message, Outbox, StatusChange
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

ANN = make_contact()
BOB = make_contact(id="01contact0000000000000000b", first_name="Bob", email="bob@x.example")
GONE = "01contact0000000000000000z"


@pytest.fixture
def contacts():
    unsubscribed = make_contact(
        id="01contact0000000000000000u",
        subscriptions={"email": {"status": "unsubscribed"}},
    )
    listed = make_contact(
        id="01contact0000000000000000l",
        blacklists={"email": {"since": "2026-01-01T00:00:00Z"}, "phone": None, "viber": None},
    )
    return FakeContacts(ANN, BOB, unsubscribed, listed)


@pytest.fixture
def template(run):
    return run(
        templates.create_template,
        {
            "name": "promo",
            "channel": "email",
            "subject": "Hi {{ first_name }}",
            "body": "<p>{{ data.offer }}</p>",
        },
        "tester",
    )


def item(template, contact_id, key=None, **more):
    return {
        "key": f"campaign:c1:{contact_id}" if key is None else key,
        "contact_id": contact_id,
        "channel": "email",
        "template_id": template["id"],
        "origin": "campaign",
        "trigger": {"campaign_id": "c1"},
        "data": {"offer": "20% off"},
        **more,
    }


def count(sessions, model) -> int:
    with transaction(sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_batch_is_queued_rendered_per_contact_with_one_contacts_call(
    unit_of_work, contacts, template, run, recorded
):
    answers = queue_batch(
        unit_of_work,
        contacts,
        SETTINGS,
        [item(template, ANN["id"]), item(template, BOB["id"])],
        "campaigns",
    )
    assert [(a["key"], a["status"], a["reason"]) for a in answers] == [
        (f"campaign:c1:{ANN['id']}", "queued", None),
        (f"campaign:c1:{BOB['id']}", "queued", None),
    ]
    assert [c[0] for c in contacts.calls] == ["contacts_for_sending"]
    bob = run(messages.get_message, answers[1]["message_id"])
    assert bob["content"] == {"subject": "Hi Bob", "html": "<p>20% off</p>"}
    assert bob["contact_id"] == BOB["id"] and bob["origin"] == "campaign"
    assert bob["trigger"] == {"campaign_id": "c1"}
    assert [h["status"] for h in bob["history"]] == ["queued"]
    queued = [body for name, body in recorded() if name == "message_queued"]
    assert [e["message_id"] for e in queued] == [a["message_id"] for a in answers]
    assert all(e["trigger"] == {"campaign_id": "c1"} for e in queued)
    assert [body["message_id"] for _, body in recorded(DeliveryOutbox)] == [
        a["message_id"] for a in answers
    ]
    # The sender's claim hands it over as it does any message.
    claimed = claims.claim(unit_of_work, contacts, SETTINGS, answers[0]["message_id"])
    assert claimed["send"] and claimed["delivery"]["to"] == ANN["email"]


def test_the_same_keys_again_answer_the_stored_messages_and_queue_nothing(
    unit_of_work, contacts, template, sessions
):
    batch = [item(template, ANN["id"]), item(template, BOB["id"])]
    first = queue_batch(unit_of_work, contacts, SETTINGS, batch, "campaigns")
    again = queue_batch(unit_of_work, contacts, SETTINGS, batch, "campaigns")
    assert again == first
    assert count(sessions, Message) == 2
    assert count(sessions, StatusChange) == 2
    assert count(sessions, DeliveryOutbox) == 2 and count(sessions, Outbox) == 2


def test_refusals_name_the_eligibility_reason_and_store_nothing(
    unit_of_work, contacts, template, sessions
):
    answers = queue_batch(
        unit_of_work,
        contacts,
        SETTINGS,
        [
            item(template, "01contact0000000000000000u"),
            item(template, "01contact0000000000000000l"),
            item(template, GONE),
            item(template, ANN["id"], category="sales"),
            item(template, BOB["id"]),
        ],
        "campaigns",
    )
    assert [(a["status"], a["reason"]) for a in answers] == [
        ("refused", "unsubscribed"),
        ("refused", "blacklisted"),
        ("refused", "erased"),
        ("refused", "category"),
        ("queued", None),
    ]
    assert [a["message_id"] is None for a in answers] == [True] * 4 + [False]
    assert count(sessions, Message) == 1


def test_a_key_stored_by_another_caller_meanwhile_answers_its_message(
    unit_of_work, contacts, template, sessions
):
    """The other caller stores the key after our read and before our write: the
    database skips our row, and we answer theirs."""
    batch = [item(template, ANN["id"]), item(template, BOB["id"])]
    theirs = {}
    answer = contacts.answer

    def meanwhile(service, method, *args, **kwargs):
        if method == "contacts_for_sending" and not theirs:
            theirs["answers"] = []
            theirs["answers"] = queue_batch(unit_of_work, contacts, SETTINGS, batch[:1], "other")
        return answer(service, method, *args, **kwargs)

    contacts.call = meanwhile
    ours = queue_batch(unit_of_work, contacts, SETTINGS, batch, "campaigns")
    assert ours[0]["message_id"] == theirs["answers"][0]["message_id"]
    assert count(sessions, Message) == 2 and count(sessions, DeliveryOutbox) == 2


def test_bad_items_are_named_by_their_path(unit_of_work, contacts, template):
    cases = [
        ([item(template, ANN["id"]), item(template, BOB["id"], channel="fax")], "items.1.channel"),
        ([item(template, ANN["id"], key="")], "items.0.key"),
        ([item(template, ANN["id"], key="k" * 201)], "items.0.key"),
        ([item(template, ANN["id"], origin="spam")], "items.0.origin"),
        (
            [
                item(template, ANN["id"]),
                item(template, BOB["id"], key=item(template, ANN["id"])["key"]),
            ],
            "items.1.key",
        ),
        (
            [item(template, ANN["id"], template_id="01nosuchtemplate0000000000")],
            "items.0.template_id",
        ),
        ([item(template, ANN["id"], channel="sms")], "items.0.template_id"),
        ([item(template, ANN["id"])] * 501, "items"),
    ]
    for batch, path in cases:
        with pytest.raises(Invalid) as caught:
            queue_batch(unit_of_work, contacts, SETTINGS, batch, "campaigns")
        assert path in caught.value.errors, (path, caught.value.errors)


def test_a_template_failing_to_render_is_named_under_its_item(unit_of_work, contacts, run):
    broken = run(
        templates.create_template,
        {"name": "t", "channel": "sms", "body": "{{ data.x.y.z() }}"},
        "tester",
    )
    batch = [item(broken, ANN["id"], channel="sms")]
    with pytest.raises(Invalid) as caught:
        queue_batch(unit_of_work, contacts, SETTINGS, batch, "campaigns")
    assert list(caught.value.errors) == ["items.0.content.body"]


@pytest.mark.postgres
def test_two_callers_racing_with_the_same_keys_make_one_message_a_key(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    try:
        from sqlalchemy.orm import sessionmaker

        sessions = sessionmaker(engine, expire_on_commit=False)
        unit_of_work = functools.partial(transaction, sessions)
        with transaction(sessions) as session:
            template = templates.create_template(
                session, {"name": "t", "channel": "sms", "body": "Hi {{ first_name }}"}, "tester"
            )
        people = [make_contact(id=f"01contact{n:017d}", first_name=f"P{n}") for n in range(200)]
        batch = [item(template, p["id"], channel="sms") for p in people]
        start = threading.Barrier(2)
        results: list = [None, None]

        def caller(slot):
            contacts = FakeContacts(*people)
            start.wait()
            results[slot] = queue_batch(unit_of_work, contacts, SETTINGS, batch, f"c{slot}")

        threads = [threading.Thread(target=caller, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results[0] == results[1]
        assert count(sessions, Message) == 200 and count(sessions, DeliveryOutbox) == 200
    finally:
        engine.dispose()


def test_the_trigger_rides_on_every_event_of_the_message_and_is_null_for_a_direct_send(
    unit_of_work, contacts, template, run, recorded
):
    workflow = {"workflow_id": "w1", "run_id": "r1", "step": 2, "cause": {"event": "signup"}}
    (queued,) = queue_batch(
        unit_of_work,
        contacts,
        SETTINGS,
        [item(template, ANN["id"], origin="workflow", trigger=workflow)],
        "workflows",
    )
    bounces.report_delivery(
        unit_of_work, contacts, queued["message_id"], "sent", {"provider_id": "p1"}
    )
    bounces.report_delivery(unit_of_work, contacts, queued["message_id"], "delivered", {})
    direct = send_message(
        unit_of_work,
        contacts,
        SETTINGS,
        {"contact": {"id": ANN["id"]}, "channel": "sms", "content": {"body": "hi"}},
        "api",
    )
    assert run(messages.get_message, direct["id"])["trigger"] is None
    assert run(messages.get_message, queued["message_id"])["trigger"] == workflow
    by_message = [(name, body["message_id"], body["trigger"]) for name, body in recorded()]
    assert by_message == [
        ("message_queued", queued["message_id"], workflow),
        ("message_sent", queued["message_id"], workflow),
        ("message_status", queued["message_id"], workflow),
        ("message_queued", direct["id"], None),
    ]
    with pytest.raises(Invalid) as caught:
        send_message(
            unit_of_work,
            contacts,
            SETTINGS,
            {
                "contact": {"id": ANN["id"]},
                "channel": "sms",
                "content": {"body": "hi"},
                "trigger": {},
            },
            "api",
        )
    assert list(caught.value.errors) == ["trigger"]
