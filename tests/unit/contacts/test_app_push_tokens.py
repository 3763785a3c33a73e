"""App push device tokens: registering one subscribes app_push (with its ledger entry),
the same token again changes nothing, ten a contact, one contact a token, removal, and
the tokens in the contact resource as both reads show it."""

import pytest

from plexus.errors import Conflict, Invalid, NotFound
from services.contacts.logic import app_push, subscriptions
from services.contacts.logic.contacts import get_contact

ACTOR = "mobile-app"


def device(token="fcm-token-1", platform="android", app="com.shop.app"):
    return {"token": token, "platform": platform, "app": app}


def ledger(run, contact_id):
    entries = run(subscriptions.subscription_history, contact_id, 50, None)["data"]
    return [(e["channel"], e["status"], e["reason"], e["actor"]) for e in reversed(entries)]


@pytest.fixture
def contact(create, clear_outbox):
    made = create(email="a@example.com")
    clear_outbox()
    return made


def test_the_first_token_subscribes_the_channel_with_its_ledger_entry(run, contact, outbox):
    token = run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    assert set(token) == {"id", "platform", "app", "token", "created_at"}
    assert (token["platform"], token["app"], token["token"]) == (
        "android",
        "com.shop.app",
        "fcm-token-1",
    )
    stored = run(get_contact, contact["id"])
    assert stored["subscriptions"]["app_push"]["status"] == "subscribed"
    assert ("app_push", "subscribed", "address added", ACTOR) in ledger(run, contact["id"])
    [updated] = outbox("contact_updated")
    assert updated["changed"]["channels"]["app_push"] == [
        {"id": token["id"], "platform": "android", "app": "com.shop.app", "token": "fcm-token-1"}
    ]
    assert [c["channel"] for c in outbox("subscription_changed")] == ["app_push"]


def test_the_same_token_again_changes_nothing(run, contact, outbox, clear_outbox):
    first = run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    clear_outbox()
    again = run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    assert again == first
    assert outbox() == []
    assert len(ledger(run, contact["id"])) == 2  # email's, app_push's: no second entry
    moved = run(app_push.add_app_push_token, contact["id"], device(platform="ios"), ACTOR)
    assert (moved["id"], moved["platform"]) == (first["id"], "ios")


def test_a_second_device_keeps_the_channel_as_it_is(run, contact):
    run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    run(
        subscriptions.set_subscription,
        contact["id"],
        "app_push",
        {"status": "unsubscribed", "reason": "asked"},
        ACTOR,
    )
    run(app_push.add_app_push_token, contact["id"], device("fcm-token-2", "ios"), ACTOR)
    stored = run(get_contact, contact["id"])
    assert stored["subscriptions"]["app_push"]["status"] == "unsubscribed"
    assert [t["token"] for t in stored["channels"]["app_push"]] == ["fcm-token-1", "fcm-token-2"]


def test_a_contact_keeps_at_most_ten_tokens(run, contact):
    for n in range(app_push.MAX_APP_PUSH_TOKENS):
        run(app_push.add_app_push_token, contact["id"], device(f"t{n}"), ACTOR)
    with pytest.raises(Invalid) as caught:
        run(app_push.add_app_push_token, contact["id"], device("t-eleventh"), ACTOR)
    assert list(caught.value.errors) == ["token"]
    # A known token is still taken again: it is no new device.
    run(app_push.add_app_push_token, contact["id"], device("t0"), ACTOR)


def test_a_token_belongs_to_one_contact(run, contact, create):
    run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    other = create(email="b@example.com")
    with pytest.raises(Conflict) as caught:
        run(app_push.add_app_push_token, other["id"], device(), ACTOR)
    assert caught.value.errors == {"token": ["belongs to another contact"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (device(platform="windows"), "platform"),
        (device(token=""), "token"),
        (device(token="x" * 1025), "token"),
        ({"token": "t", "platform": "ios"}, "app"),
        ({**device(), "endpoint": "x"}, "endpoint"),
    ],
)
def test_bad_bodies_name_the_field(run, contact, body, field):
    with pytest.raises(Invalid) as caught:
        run(app_push.add_app_push_token, contact["id"], body, ACTOR)
    assert field in caught.value.errors


def test_removal_and_the_sender_s_list(run, contact):
    first = run(app_push.add_app_push_token, contact["id"], device(), ACTOR)
    second = run(app_push.add_app_push_token, contact["id"], device("fcm-token-2", "ios"), ACTOR)
    assert [t["id"] for t in run(app_push.app_push_tokens, contact["id"])] == [
        first["id"],
        second["id"],
    ]
    run(app_push.remove_app_push_token, contact["id"], first["id"], "sender:app_push")
    assert run(app_push.app_push_tokens, contact["id"]) == [second]
    with pytest.raises(NotFound):
        run(app_push.remove_app_push_token, contact["id"], first["id"], ACTOR)
    with pytest.raises(NotFound):
        run(app_push.app_push_tokens, "01NOSUCHCONTACT0000000000")
    # A write's answer (the ORM's) and the one-statement read show the same tokens.
    written = run(
        subscriptions.set_subscription,
        contact["id"],
        "app_push",
        {"status": "subscribed", "reason": "back"},
        ACTOR,
    )
    assert written["channels"] == run(get_contact, contact["id"])["channels"]
    assert written["channels"]["app_push"] == [
        {"id": second["id"], "platform": "ios", "app": "com.shop.app", "token": "fcm-token-2"}
    ]
