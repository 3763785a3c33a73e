"""The subscription form's logic: who is sent a confirmation (through messaging's
queue_confirmation), and what following the link does to the contact and its ledger."""

import functools

import pytest

from plexus.contract import events
from plexus.db import transaction
from plexus.errors import Conflict, Gone, Invalid, NotFound
from services.contacts.logic import blacklists, contacts, forms, subscriptions
from services.contacts.settings import FormSettings

SETTINGS = FormSettings(secret="forms-test-secret", confirmation_hours=48)
ACTOR = "crm-sync"


class Messaging:
    """Records the confirmations asked for; may refuse them as the rule would."""

    def __init__(self, refuse: bool = False):
        self.sent: list[tuple] = []
        self.refuse = refuse

    def __call__(self, service, method, *args):
        assert (service, method) == ("messaging", "queue_confirmation")
        if self.refuse:
            raise Conflict("the contact's email is on the black list")
        self.sent.append(args)
        return {"id": "m1", "status": "queued"}


@pytest.fixture
def post(sessions):
    """post(body) -> (answer, confirmations asked for)."""

    def call(body, messaging=None):
        messaging = messaging or Messaging()
        answer = forms.subscribe(
            functools.partial(transaction, sessions), messaging, SETTINGS, body
        )
        return answer, messaging.sent

    return call


def _contact(run, email):
    return run(contacts.find_contacts, email=email)["data"]


def test_a_new_address_is_a_pending_contact_sent_one_confirmation(post, run, registered):
    answer, sent = post(
        {
            "email": " Olena@Example.com ",
            "first_name": "Olena",
            "categories": ["newsletter"],
            "language": "uk",
        }
    )
    assert answer == {"status": "accepted"}
    [pending] = _contact(run, "olena@example.com")
    assert pending["created_via"] == "form" and pending["first_name"] == "Olena"
    assert pending["subscriptions"]["email"]["status"] == "never"
    assert pending["categories"] == {}  # only once confirmed
    [(contact_id, token, expires_at, actor)] = sent
    assert (contact_id, actor) == (pending["id"], "form") and expires_at.endswith("Z")

    confirmed = run(forms.confirm, token, SETTINGS, 0)
    assert confirmed == {
        "status": "subscribed",
        "email": "olena@example.com",
        "categories": ["newsletter"],
    }
    [done] = _contact(run, "olena@example.com")
    assert done["subscriptions"]["email"]["status"] == "subscribed"
    assert done["subscriptions"]["email"]["reason"] == "double opt-in"
    assert done["categories"] == {"newsletter": True}
    [line] = run(subscriptions.subscription_history, done["id"], 50, None)["data"]
    assert (line["status"], line["reason"], line["actor"], line["previous_status"]) == (
        "subscribed",
        "double opt-in",
        "form",
        "never",
    )
    assert run(forms.confirm, token, SETTINGS, 0)["status"] == "subscribed"  # again: same
    assert len(run(subscriptions.subscription_history, done["id"], 50, None)["data"]) == 1


def test_an_already_subscribed_address_gets_no_second_email(post, run, create):
    create(email="subscribed@example.com")  # an address added subscribes email
    answer, sent = post({"email": "subscribed@example.com"})
    assert answer == {"status": "accepted"} and sent == []


def test_black_listed_inactive_or_suppressed_addresses_get_no_email(post, run, create):
    listed = create(email="listed@example.com")
    run(
        subscriptions.set_subscription,
        listed["id"],
        "email",
        {"status": "unsubscribed", "reason": "asked"},
        ACTOR,
    )
    run(blacklists.add_to_blacklist, listed["id"], "email", {"reason": "complaint"}, ACTOR)
    quiet = create(email="quiet@example.com")
    run(
        subscriptions.set_subscription,
        quiet["id"],
        "email",
        {"status": "unsubscribed", "reason": "asked"},
        ACTOR,
    )
    run(contacts.set_status, quiet["id"], "inactive", ACTOR)
    gone = create(email="gone@example.com")
    run(
        subscriptions.set_subscription,
        gone["id"],
        "email",
        {"status": "unsubscribed", "reason": forms.SUPPRESSED},
        ACTOR,
    )
    for email in ("listed@example.com", "quiet@example.com", "gone@example.com"):
        assert post({"email": email}) == ({"status": "accepted"}, [])


def test_an_unsubscribed_contact_may_subscribe_again_through_the_form(post, run, create):
    made = create(email="back@example.com", first_name="Kept")
    run(
        subscriptions.set_subscription,
        made["id"],
        "email",
        {"status": "unsubscribed", "reason": "too many"},
        ACTOR,
    )
    _, [(contact_id, token, *_)] = post({"email": "back@example.com", "first_name": "Other"})
    assert contact_id == made["id"]
    run(forms.confirm, token, SETTINGS, 0)
    [after] = _contact(run, "back@example.com")
    assert after["first_name"] == "Kept" and after["created_via"] == "api"
    assert after["subscriptions"]["email"]["reason"] == "double opt-in"


def test_a_refusal_by_messaging_is_still_accepted(post, run):
    assert post({"email": "r@example.com"}, Messaging(refuse=True)) == ({"status": "accepted"}, [])


def test_a_contact_erased_before_the_click_is_created_again(post, run, registered, outbox):
    _, [(contact_id, token, *_)] = post({"email": "e@example.com", "categories": ["offers"]})
    run(contacts.delete_contact, contact_id, ACTOR)
    run(forms.confirm, token, SETTINGS, 0)
    [again] = _contact(run, "e@example.com")
    assert again["id"] != contact_id and again["created_via"] == "form"
    assert again["subscriptions"]["email"]["reason"] == "double opt-in"
    assert again["categories"] == {"offers": True}
    created = outbox(events.CONTACT_CREATED)[-1]
    assert created["subscribed"][0]["reason"] == "double opt-in"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "not an address"}, "email"),
        ({"email": "a@example.com", "categories": ["no-such"]}, "categories.no-such"),
        ({"email": "a@example.com", "categories": "newsletter"}, "categories"),
        ({"email": "a@example.com", "language": "xx"}, "language"),
        ({"email": "a@example.com", "phone": "+380501234567"}, "phone"),
    ],
)
def test_a_bad_form_is_422_naming_the_field_and_stores_nothing(post, run, registered, body, field):
    with pytest.raises(Invalid) as refused:
        post(body)
    assert field in refused.value.errors
    assert run(contacts.find_contacts)["data"] == []


def test_a_bad_or_expired_link_changes_nothing(post, run):
    _, [(_, token, *_)] = post({"email": "late@example.com"})
    with pytest.raises(Gone):
        run(forms.confirm, token, SETTINGS, 10**12)
    with pytest.raises(NotFound):
        run(forms.confirm, token[:-2] + "xx", SETTINGS, 0)
    [still] = _contact(run, "late@example.com")
    assert still["subscriptions"]["email"]["status"] == "never"
