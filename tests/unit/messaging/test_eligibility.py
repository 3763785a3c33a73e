"""Who may be sent what: the refusal reasons, and the property that no inactive,
unsubscribed or black-listed contact's message ever reaches a sender's queue (the only
way to a provider)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plexus.errors import Conflict
from services.messaging.logic.eligibility import BLACKLIST_OF, address, refusal
from services.messaging.logic.sending import send_message
from services.messaging.logic.templates import create_template
from services.messaging.models import DeliveryOutbox
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

CHANNELS = ("email", "sms", "telegram", "viber", "webpush_desktop", "webpush_mobile")


def test_a_reachable_contact_may_receive_on_every_channel():
    contact = make_contact()
    for channel in CHANNELS:
        if channel == "webpush_mobile":
            refused = refusal(contact, channel)
            assert refused.detail == "the contact has no address for webpush_mobile"
        else:
            assert refusal(contact, channel) is None, channel
    assert address(contact, "telegram") == "42"
    assert address(contact, "webpush_desktop")[0]["endpoint"] == "https://p"


@pytest.mark.parametrize(
    ("change", "channel", "code", "reason"),
    [
        ({"status": "inactive"}, "email", "inactive", "inactive"),
        (
            {"subscriptions": {"email": {"status": "unsubscribed"}}},
            "email",
            "unsubscribed",
            "not subscribed",
        ),
        ({"subscriptions": {}}, "sms", "unsubscribed", "not subscribed"),
        (
            {"blacklists": {"email": {"reason": "bounce"}}},
            "email",
            "blacklisted",
            "email is on the black list",
        ),
        (
            {"blacklists": {"phone": {"reason": "x"}}},
            "sms",
            "blacklisted",
            "phone is on the black list",
        ),
        (
            {"blacklists": {"viber": {"reason": "x"}}},
            "viber",
            "blacklisted",
            "viber is on the black list",
        ),
        ({"email": None}, "email", "no_address", "no address"),
        ({"channels": {}}, "telegram", "no_address", "no address"),
    ],
)
def test_refusals_say_why(change, channel, code, reason):
    found = refusal(make_contact(**change), channel)
    assert (found.reason, reason in found.detail) == (code, True)


def test_a_contact_that_is_gone_was_erased():
    assert refusal(None, "email").reason == "erased"


def test_the_phone_black_list_does_not_bar_email():
    assert refusal(make_contact(blacklists={"phone": {"reason": "x"}}), "email") is None


def test_categories_are_opt_in():
    contact = make_contact(categories={"news": True, "offers": False})
    assert refusal(contact, "email", "news") is None
    assert "offers" in refusal(contact, "email", "offers").detail
    assert refusal(contact, "email", "sales").reason == "category"


states = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["active", "inactive"]),
        "subscription": st.sampled_from(["subscribed", "unsubscribed", "never"]),
        "blacklisted": st.booleans(),
        "channel": st.sampled_from(["email", "sms", "viber", "telegram"]),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=states)
def test_no_barred_contact_ever_reaches_a_sender(state, unit_of_work, recorded, run):
    channel = state["channel"]
    contact = make_contact(
        status=state["status"],
        subscriptions={channel: {"status": state["subscription"]}},
        blacklists={
            name: ({"reason": "r"} if state["blacklisted"] else None)
            for name in ("email", "phone", "viber")
        },
    )
    barred = (
        state["status"] != "active"
        or state["subscription"] != "subscribed"
        or (state["blacklisted"] and channel in BLACKLIST_OF)
    )
    before = len(recorded(DeliveryOutbox))
    body = {
        "contact": {"id": contact["id"]},
        "channel": channel,
        "content": {"subject": "s", "text": "hello", "body": "hello"},
    }
    if channel == "viber":  # viber sends approved templates only
        template = run(
            create_template,
            {"name": "v", "channel": "viber", "body": "hi", "approved": True},
            "tester",
        )
        body = {**body, "content": None, "template_id": template["id"]}
    try:
        send_message(unit_of_work, FakeContacts(contact), SETTINGS, body, "test")
        sent = True
    except Conflict:
        sent = False
    queued = len(recorded(DeliveryOutbox)) - before
    assert queued == int(sent)
    if barred:
        assert not sent


def test_every_refusal_reason_is_in_the_shared_vocabulary():
    from plexus.contract.vocab import FREQUENCY_CAP, REFUSAL_REASONS
    from services.messaging.logic import eligibility

    reasons = {
        eligibility.INACTIVE,
        eligibility.UNSUBSCRIBED,
        eligibility.BLACKLISTED,
        eligibility.NO_ADDRESS,
        eligibility.CATEGORY,
        eligibility.ERASED,
        FREQUENCY_CAP,
    }
    assert reasons == set(REFUSAL_REASONS)
