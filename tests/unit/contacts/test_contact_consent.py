"""Subscriptions and their ledger, black lists, and channel addresses."""

import pytest

from plexus.errors import Conflict, Invalid, NotFound
from plexus.push_services import PushServices
from services.contacts.logic import blacklists, channels, subscriptions
from services.contacts.logic.contacts import get_contact

ACTOR = "crm-sync"
CLERK = "support-desk"

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


def webpush(device="desktop", endpoint="https://fcm.googleapis.com/fcm/send/1", auth=AUTH):
    return {"endpoint": endpoint, "device": device, "keys": {"p256dh": P256DH, "auth": auth}}


def ledger(run, contact_id):
    entries = run(subscriptions.subscription_history, contact_id, 50, None)["data"]
    return [
        (e["channel"], e["previous_status"], e["status"], e["reason"], e["actor"])
        for e in reversed(entries)
    ]


@pytest.fixture
def contact(create, clear_outbox):
    made = create(email="a@example.com")
    clear_outbox()
    return made


def test_email_and_sms_may_be_subscribed_and_unsubscribed_by_hand(run, contact, outbox):
    off = run(
        subscriptions.set_subscription,
        contact["id"],
        "email",
        {"status": "unsubscribed", "reason": "asked by phone"},
        CLERK,
    )
    assert off["subscriptions"]["email"]["status"] == "unsubscribed"
    assert off["subscriptions"]["email"]["reason"] == "asked by phone"
    assert off["updated_at"] >= contact["updated_at"]
    on = run(
        subscriptions.set_subscription,
        contact["id"],
        "sms",
        {"status": "subscribed", "reason": "signed a form"},
        CLERK,
    )
    assert on["subscriptions"]["sms"]["status"] == "subscribed"
    assert [
        (p["channel"], p["previous"], p["status"], p["reason"], p["actor"])
        for p in outbox("subscription_changed")
    ] == [
        ("email", "subscribed", "unsubscribed", "asked by phone", CLERK),
        ("sms", "never", "subscribed", "signed a form", CLERK),
    ]


def test_every_change_is_in_the_ledger_newest_first(run, contact):
    run(
        subscriptions.set_subscription,
        contact["id"],
        "email",
        {"status": "unsubscribed", "reason": "complaint"},
        CLERK,
    )
    run(
        subscriptions.set_subscription,
        contact["id"],
        "email",
        {"status": "subscribed", "reason": "came back"},
        CLERK,
    )
    assert ledger(run, contact["id"]) == [
        ("email", "never", "subscribed", "address added", ACTOR),
        ("email", "subscribed", "unsubscribed", "complaint", CLERK),
        ("email", "unsubscribed", "subscribed", "came back", CLERK),
    ]
    first = run(subscriptions.subscription_history, contact["id"], 2, None)
    rest = run(subscriptions.subscription_history, contact["id"], 2, first["next_cursor"])
    assert [e["reason"] for e in first["data"] + rest["data"]] == [
        "came back",
        "complaint",
        "address added",
    ]
    assert rest["next_cursor"] is None


def test_setting_the_status_it_has_changes_nothing(run, contact, outbox):
    again = run(
        subscriptions.set_subscription,
        contact["id"],
        "email",
        {"status": "subscribed", "reason": "again"},
        CLERK,
    )
    assert again["subscriptions"]["email"]["reason"] == "address added"
    assert outbox() == [] and len(ledger(run, contact["id"])) == 1


@pytest.mark.parametrize("channel", ["telegram", "viber", "webpush_desktop", "webpush_mobile"])
def test_a_never_subscribed_addressed_channel_cannot_be_subscribed_by_hand(run, contact, channel):
    with pytest.raises(Conflict) as caught:
        run(subscriptions.set_subscription, contact["id"], channel, {"status": "subscribed"}, CLERK)
    assert f"subscriptions.{channel}" in caught.value.errors
    # Unsubscribing one that was never subscribed is a change the ledger keeps, though.
    off = run(
        subscriptions.set_subscription, contact["id"], channel, {"status": "unsubscribed"}, CLERK
    )
    assert off["subscriptions"][channel]["status"] == "unsubscribed"


def test_a_channel_subscribed_before_may_be_subscribed_again_by_hand(run, contact):
    chat = run(channels.set_channel_address, contact["id"], "telegram", {"chat_id": 42}, ACTOR)
    assert chat["subscriptions"]["telegram"]["status"] == "subscribed"
    run(
        subscriptions.set_subscription,
        contact["id"],
        "telegram",
        {"status": "unsubscribed", "reason": "/stop"},
        ACTOR,
    )
    again = run(
        subscriptions.set_subscription,
        contact["id"],
        "telegram",
        {"status": "subscribed", "reason": "/start"},
        CLERK,
    )
    assert again["subscriptions"]["telegram"] == {
        "status": "subscribed",
        "changed_at": again["subscriptions"]["telegram"]["changed_at"],
        "reason": "/start",
    }


def test_never_and_unknown_statuses_and_channels_are_refused(run, contact):
    with pytest.raises(Invalid) as caught:
        run(subscriptions.set_subscription, contact["id"], "email", {"status": "never"}, CLERK)
    assert set(caught.value.errors) == {"status"}
    with pytest.raises(NotFound):
        run(
            subscriptions.set_subscription, contact["id"], "pigeon", {"status": "subscribed"}, CLERK
        )
    with pytest.raises(NotFound):
        run(
            subscriptions.set_subscription,
            "01jdx0000000000000000000zz",
            "email",
            {"status": "subscribed"},
            CLERK,
        )


def test_black_listing_keeps_since_and_updates_the_reason(run, contact, outbox):
    listed = run(
        blacklists.add_to_blacklist, contact["id"], "email", {"reason": "hard bounce"}, CLERK
    )
    since = listed["blacklists"]["email"]["since"]
    assert listed["blacklists"] == {
        "email": {"since": since, "reason": "hard bounce"},
        "phone": None,
        "viber": None,
    }
    again = run(blacklists.add_to_blacklist, contact["id"], "email", {"reason": "complaint"}, CLERK)
    assert again["blacklists"]["email"] == {"since": since, "reason": "complaint"}
    cleared = run(blacklists.remove_from_blacklist, contact["id"], "email", CLERK)
    assert cleared["blacklists"]["email"] is None
    assert run(blacklists.remove_from_blacklist, contact["id"], "email", CLERK) == cleared
    assert [
        (p["list"], p["blacklisted"], p["reason"], p["actor"]) for p in outbox("blacklist_changed")
    ] == [("email", True, "hard bounce", CLERK), ("email", False, None, CLERK)]


def test_a_black_list_needs_no_reason(run, contact):
    listed = run(blacklists.add_to_blacklist, contact["id"], "email", None, CLERK)
    assert listed["blacklists"]["email"]["reason"] is None


def test_an_unknown_black_list_is_not_found(run, contact):
    with pytest.raises(NotFound):
        run(blacklists.add_to_blacklist, contact["id"], "pigeon", {}, CLERK)
    with pytest.raises(NotFound):
        run(blacklists.remove_from_blacklist, contact["id"], "pigeon", CLERK)
    with pytest.raises(Invalid) as caught:
        run(blacklists.add_to_blacklist, contact["id"], "viber", {"why": "x"}, CLERK)
    assert set(caught.value.errors) == {"why"}


def test_telegram_and_viber_addresses_subscribe_their_channel(run, contact, outbox):
    run(channels.set_channel_address, contact["id"], "telegram", {"chat_id": "123456789"}, ACTOR)
    viber = run(
        channels.set_channel_address, contact["id"], "viber", {"user_id": "01234567890A="}, ACTOR
    )
    assert viber["channels"]["telegram"] == {"chat_id": "123456789"}
    assert viber["channels"]["viber"] == {"user_id": "01234567890A="}
    assert viber["subscriptions"]["viber"]["reason"] == "address added"
    assert [name for name, _ in outbox()] == [
        "contact_updated",
        "subscription_changed",
        "contact_updated",
        "subscription_changed",
    ]
    # A Telegram or Viber address is its own request: its subscription its own event.
    assert outbox("contact_updated")[1]["changed"] == {"channels": viber["channels"]}


def test_a_new_chat_does_not_resubscribe_an_unsubscribed_channel(run, contact):
    run(channels.set_channel_address, contact["id"], "telegram", {"chat_id": 1}, ACTOR)
    run(
        subscriptions.set_subscription, contact["id"], "telegram", {"status": "unsubscribed"}, ACTOR
    )
    moved = run(channels.set_channel_address, contact["id"], "telegram", {"chat_id": 2}, ACTOR)
    assert moved["channels"]["telegram"] == {"chat_id": "2"}
    assert moved["subscriptions"]["telegram"]["status"] == "unsubscribed"


def test_a_channel_address_belongs_to_one_contact(run, contact, create):
    other = create(email="b@example.com")
    run(channels.set_channel_address, contact["id"], "telegram", {"chat_id": 7}, ACTOR)
    with pytest.raises(Conflict) as caught:
        run(channels.set_channel_address, other["id"], "telegram", {"chat_id": "7"}, ACTOR)
    assert caught.value.errors == {"chat_id": ["belongs to another contact"]}
    with pytest.raises(NotFound):
        run(channels.set_channel_address, contact["id"], "email", {"chat_id": 7}, ACTOR)


def test_webpush_subscriptions_subscribe_the_device_channel(run, contact):
    desktop = run(channels.add_webpush_subscription, contact["id"], webpush(), ACTOR)
    assert set(desktop) == {"id", "device", "endpoint", "created_at"}
    mobile = run(
        channels.add_webpush_subscription,
        contact["id"],
        webpush("mobile", "https://fcm.googleapis.com/fcm/send/2"),
        ACTOR,
    )

    stored = run(get_contact, contact["id"])
    assert stored["channels"]["webpush"] == [
        {"id": desktop["id"], "device": "desktop", "endpoint": desktop["endpoint"]},
        {"id": mobile["id"], "device": "mobile", "endpoint": mobile["endpoint"]},
    ]
    assert stored["subscriptions"]["webpush_desktop"]["status"] == "subscribed"
    assert stored["subscriptions"]["webpush_mobile"]["status"] == "subscribed"


def test_registering_an_endpoint_again_refreshes_it(run, contact, create):
    first = run(channels.add_webpush_subscription, contact["id"], webpush(), ACTOR)
    again = run(
        channels.add_webpush_subscription,
        contact["id"],
        webpush(auth="AAAAAAAAAAAAAAAAAAAAAA"),
        ACTOR,
    )
    assert again["id"] == first["id"]
    other = create(email="b@example.com")
    with pytest.raises(Conflict) as caught:
        run(channels.add_webpush_subscription, other["id"], webpush(), ACTOR)
    assert caught.value.errors == {"endpoint": ["belongs to another contact"]}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:15672/api/users",  # the broker's management API
        "https://[::1]/push",
        "https://10.0.0.7/push",
        "https://rabbitmq.plexus.svc.cluster.local/",  # a name inside the cluster
        "http://fcm.googleapis.com/fcm/send/1",  # a push service, but in clear
        "https://fcm.googleapis.com:8443/fcm/send/1",
        "https://user:pw@fcm.googleapis.com/fcm/send/1",
        "https://evilnotify.windows.com/w/1",
        "https://fcm.googleapis.com.attacker.example/fcm/send/1",
    ],
)
def test_a_push_endpoint_off_the_allowed_push_services_is_422(run, contact, endpoint):
    with pytest.raises(Invalid) as caught:
        run(channels.add_webpush_subscription, contact["id"], webpush(endpoint=endpoint), ACTOR)
    assert list(caught.value.errors) == ["endpoint"]
    assert run(channels.webpush_subscriptions, contact["id"]) == []


def test_the_browsers_push_services_and_configured_origins_are_allowed(run, contact):
    for endpoint in (
        "https://updates.push.services.mozilla.com/wpush/v2/x",
        "https://wns2-db5p.notify.windows.com/w/?token=x",
        "https://web.push.apple.com/QOb",
        "https://FCM.googleapis.com./fcm/send/9",
    ):
        run(channels.add_webpush_subscription, contact["id"], webpush(endpoint=endpoint), ACTOR)
    own = PushServices.parse("http://127.0.0.1:8700, push.internal.example")
    run(
        channels.add_webpush_subscription,
        contact["id"],
        webpush(endpoint="http://127.0.0.1:8700/push/1"),
        ACTOR,
        own,
    )
    with pytest.raises(Invalid):  # the origin's port and scheme, exactly
        run(
            channels.add_webpush_subscription,
            contact["id"],
            webpush(endpoint="http://127.0.0.1:8701/push/1"),
            ACTOR,
            own,
        )
    with pytest.raises(Invalid):  # configured, the defaults are no longer in the list
        run(
            channels.add_webpush_subscription,
            contact["id"],
            webpush(endpoint="https://fcm.googleapis.com/fcm/send/10"),
            ACTOR,
            own,
        )
    assert len(run(channels.webpush_subscriptions, contact["id"])) == 5


def test_a_contact_has_at_most_ten_push_subscriptions(run, contact):
    for n in range(channels.MAX_WEBPUSH_SUBSCRIPTIONS):
        run(
            channels.add_webpush_subscription,
            contact["id"],
            webpush(endpoint=f"https://fcm.googleapis.com/fcm/send/{n}"),
            ACTOR,
        )
    with pytest.raises(Invalid) as caught:
        run(
            channels.add_webpush_subscription,
            contact["id"],
            webpush(endpoint="https://fcm.googleapis.com/fcm/send/x"),
            ACTOR,
        )
    assert caught.value.errors == {
        "endpoint": ["a contact has at most 10 push subscriptions; remove one first"]
    }
    # one already registered may still be refreshed
    run(
        channels.add_webpush_subscription,
        contact["id"],
        webpush(endpoint="https://fcm.googleapis.com/fcm/send/3", auth="A" * 22),
        ACTOR,
    )
    assert len(run(channels.webpush_subscriptions, contact["id"])) == 10


def test_the_webpush_sender_reads_the_keys_the_resource_never_shows(run, contact, create):
    desktop = run(channels.add_webpush_subscription, contact["id"], webpush(), ACTOR)
    mobile = run(
        channels.add_webpush_subscription,
        contact["id"],
        webpush("mobile", "https://fcm.googleapis.com/fcm/send/2"),
        ACTOR,
    )
    keys = {"p256dh": P256DH, "auth": AUTH}

    assert run(channels.webpush_subscriptions, contact["id"]) == [
        {"id": desktop["id"], "device": "desktop", "endpoint": desktop["endpoint"], "keys": keys},
        {"id": mobile["id"], "device": "mobile", "endpoint": mobile["endpoint"], "keys": keys},
    ]
    assert [s["id"] for s in run(channels.webpush_subscriptions, contact["id"], "mobile")] == [
        mobile["id"]
    ]
    assert run(channels.webpush_subscriptions, create(email="b@example.com")["id"]) == []
    assert P256DH not in repr(run(get_contact, contact["id"]))
    with pytest.raises(NotFound):
        run(channels.webpush_subscriptions, "01UNKNOWN00000000000000000")
    with pytest.raises(Invalid) as caught:
        run(channels.webpush_subscriptions, contact["id"], "tablet")
    assert list(caught.value.errors) == ["device"]


def test_removing_a_webpush_subscription(run, contact):
    made = run(channels.add_webpush_subscription, contact["id"], webpush(), ACTOR)
    assert run(channels.remove_webpush_subscription, contact["id"], made["id"], ACTOR) is None

    assert run(get_contact, contact["id"])["channels"]["webpush"] == []
    with pytest.raises(NotFound):
        run(channels.remove_webpush_subscription, contact["id"], made["id"], ACTOR)
