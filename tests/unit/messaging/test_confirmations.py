"""The subscription form's confirmation email: queued like any email with the purpose
`confirmation`, which lifts the subscription requirement of the rule and nothing else."""

import pytest

from plexus.errors import Conflict
from services.messaging.logic import messages
from services.messaging.logic.confirmations import queue_confirmation
from services.messaging.logic.eligibility import CONFIRMATION, refusal
from services.messaging.models import DeliveryOutbox
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

NEVER = {"email": {"status": "never"}}
EXPIRES = "2026-12-02T12:00:00Z"


@pytest.mark.parametrize("status", ["never", "unsubscribed"])
def test_a_confirmation_needs_no_subscription_a_newsletter_does(status):
    contact = make_contact(subscriptions={"email": {"status": status}})
    assert refusal(contact, "email") == "the contact is not subscribed to email"
    assert refusal(contact, "email", purpose=CONFIRMATION) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "inactive"}, "the contact is inactive"),
        (
            {"blacklists": {"email": {"since": "2026-01-01T00:00:00Z", "reason": "bounce"}}},
            "the contact's email is on the black list",
        ),
        ({"email": None}, "the contact has no address for email"),
    ],
)
def test_a_confirmation_still_obeys_status_black_list_and_address(change, reason):
    contact = make_contact(subscriptions=NEVER, **change)
    assert refusal(contact, "email", purpose=CONFIRMATION) == reason


def test_the_confirmation_is_queued_untracked_with_the_link(unit_of_work, run, recorded):
    contact = make_contact(subscriptions=NEVER)
    queued = queue_confirmation(
        unit_of_work, FakeContacts(contact), SETTINGS, contact["id"], "tok.en", EXPIRES, "form"
    )
    stored = run(messages.get_message, queued["id"])
    assert (stored["purpose"], stored["channel"], stored["status"]) == (
        CONFIRMATION,
        "email",
        "queued",
    )
    [(channel, delivery)] = recorded(DeliveryOutbox)
    assert channel == "email" and delivery["to"] == contact["email"]
    link = "https://t.example/forms/confirm/tok.en"
    assert link in delivery["content"]["text"] and f'href="{link}"' in delivery["content"]["html"]
    assert "/t/c/" not in delivery["content"]["html"] and "unsubscribe_url" not in delivery


def test_a_black_listed_address_gets_no_confirmation(unit_of_work, recorded):
    contact = make_contact(subscriptions=NEVER, blacklists={"email": {"reason": "complaint"}})
    with pytest.raises(Conflict):
        queue_confirmation(
            unit_of_work, FakeContacts(contact), SETTINGS, contact["id"], "tok.en", EXPIRES, "form"
        )
    assert recorded(DeliveryOutbox) == []
