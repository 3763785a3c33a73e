"""The subscription form's confirmation email: queued like any email with the purpose
`confirmation`, which lifts the subscription requirement of the rule and nothing else,
when it is queued and again when its sender claims it."""

import pytest

from plexus.errors import Conflict
from services.messaging.logic import claims, messages
from services.messaging.logic.confirmations import queue_confirmation
from services.messaging.logic.eligibility import CONFIRMATION, refusal
from services.messaging.models import DeliveryOutbox
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

NEVER = {"email": {"status": "never"}}
EXPIRES = "2026-12-02T12:00:00Z"


@pytest.mark.parametrize("status", ["never", "unsubscribed"])
def test_a_confirmation_needs_no_subscription_a_newsletter_does(status):
    contact = make_contact(subscriptions={"email": {"status": status}})
    assert refusal(contact, "email").reason == "unsubscribed"
    assert refusal(contact, "email", purpose=CONFIRMATION) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "inactive"}, "inactive"),
        (
            {"blacklists": {"email": {"since": "2026-01-01T00:00:00Z", "reason": "bounce"}}},
            "blacklisted",
        ),
        ({"email": None}, "no_address"),
    ],
)
def test_a_confirmation_still_obeys_status_black_list_and_address(change, reason):
    contact = make_contact(subscriptions=NEVER, **change)
    assert refusal(contact, "email", purpose=CONFIRMATION).reason == reason
    assert refusal(None, "email", purpose=CONFIRMATION).reason == "erased"


def test_the_confirmation_is_claimed_untracked_with_the_link(unit_of_work, run, recorded):
    contacts = FakeContacts(make_contact(subscriptions=NEVER))
    queued = queue_confirmation(
        unit_of_work, contacts, SETTINGS, contacts.contact["id"], "tok.en", EXPIRES, "form"
    )
    stored = run(messages.get_message, queued["id"])
    assert (stored["purpose"], stored["channel"], stored["status"]) == (
        CONFIRMATION,
        "email",
        "queued",
    )
    [(channel, queued_delivery)] = recorded(DeliveryOutbox)  # the id only, as for any
    assert (channel, queued_delivery["message_id"]) == ("email", queued["id"])
    claimed = claims.claim(unit_of_work, contacts, SETTINGS, queued["id"])
    assert claimed["send"], claimed
    delivery = claimed["delivery"]
    assert delivery["to"] == contacts.contact["email"]
    link = "https://t.example/forms/confirm/tok.en"
    assert link in delivery["content"]["text"] and f'href="{link}"' in delivery["content"]["html"]
    assert "/t/c/" not in delivery["content"]["html"] and "unsubscribe_url" not in delivery


def test_an_address_black_listed_before_the_claim_is_suppressed(unit_of_work, run):
    contacts = FakeContacts(make_contact(subscriptions=NEVER))
    queued = queue_confirmation(
        unit_of_work, contacts, SETTINGS, contacts.contact["id"], "tok.en", EXPIRES, "form"
    )
    contacts.contact["blacklists"] = {"email": {"reason": "complaint"}}
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {
        "send": False,
        "suppressed": "blacklisted",
    }
    assert run(messages.get_message, queued["id"])["status"] == "suppressed"


def test_a_black_listed_address_gets_no_confirmation(unit_of_work, recorded):
    contact = make_contact(subscriptions=NEVER, blacklists={"email": {"reason": "complaint"}})
    with pytest.raises(Conflict):
        queue_confirmation(
            unit_of_work, FakeContacts(contact), SETTINGS, contact["id"], "tok.en", EXPIRES, "form"
        )
    assert recorded(DeliveryOutbox) == []
