"""The send-time claim: a message is handed to its provider only while its contact may
still receive it, judged at the moment of the claim, with every attempt (retries
included) claiming again. The property test plays any interleaving of consent changes
and send attempts on every channel and checks against a model of its own that no
provider call is made for a contact that was not eligible at that moment."""

import contextlib
import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plexus.errors import NotFound
from services.messaging.logic import bounces, claims, messages
from services.messaging.logic.sending import send_message
from services.messaging.logic.templates import create_template
from services.messaging.senders.delivery import deliver
from services.messaging.senders.providers import TemporaryFailure
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

CHANNELS = ("email", "sms", "telegram", "viber", "webpush_desktop")
LISTS = {"email": "email", "sms": "phone", "viber": "viber"}


class Contacts(FakeContacts):
    """The contacts service of one contact whose consent the test changes, or erases."""

    erased = False

    def answer(self, service, method, *args, **kwargs):
        if self.erased and method == "get_contact":
            raise NotFound("no contact")
        return super().answer(service, method, *args, **kwargs)


def may_receive(contacts: Contacts, channel: str, category: str | None) -> bool:
    """The model: what the API promises, written apart from the code under test."""
    contact = contacts.contact
    return (
        not contacts.erased
        and contact["status"] == "active"
        and contact["subscriptions"][channel]["status"] == "subscribed"
        and not (channel in LISTS and contact["blacklists"][LISTS[channel]])
        and (category is None or contact["categories"].get(category) is True)
    )


class Port:
    """The sender's MessagingPort, answered by the messaging logic itself."""

    def __init__(self, unit_of_work, contacts):
        self.unit_of_work, self.contacts = unit_of_work, contacts

    def claim(self, message_id, limit=None):
        return claims.claim(self.unit_of_work, self.contacts, SETTINGS, message_id, limit)

    def report(self, message_id, status, details):
        bounces.report_delivery(self.unit_of_work, self.contacts, message_id, status, details)


class Provider:
    name = "fake"

    def __init__(self, contacts, categories):
        self.contacts, self.categories, self.calls, self.failures = contacts, categories, [], 0

    def send(self, delivery):
        eligible = may_receive(
            self.contacts, delivery["channel"], self.categories[delivery["message_id"]]
        )
        self.calls.append((delivery["message_id"], eligible))
        if self.failures:
            self.failures -= 1
            raise TemporaryFailure("503 try later")
        return "p-" + delivery["message_id"]


def queue_everywhere(unit_of_work, contacts, run) -> dict[str, str | None]:
    """One message a channel (email twice: with and without a category); id -> category."""
    viber = run(
        create_template, {"name": "v", "channel": "viber", "body": "hi", "approved": True}, "tester"
    )
    queued = {}
    for channel, category in [*((c, None) for c in CHANNELS), ("email", "news")]:
        body = {
            "contact": {"id": contacts.contact["id"]},
            "channel": channel,
            "category": category,
            "content": {"subject": "s", "text": "t", "body": "b"},
        }
        if channel == "viber":
            body = {**body, "content": None, "template_id": viber["id"]}
        queued[send_message(unit_of_work, contacts, SETTINGS, body, "k")["id"]] = category
    return queued


CHANGES = {
    "unsubscribe": lambda c, ch: c["subscriptions"][ch].update(status="unsubscribed"),
    "subscribe": lambda c, ch: c["subscriptions"][ch].update(status="subscribed"),
    "blacklist": lambda c, ch: c["blacklists"].update({LISTS.get(ch, "email"): {"reason": "x"}}),
    "unblacklist": lambda c, ch: c["blacklists"].update({LISTS.get(ch, "email"): None}),
    "deactivate": lambda c, ch: c.update(status="inactive"),
    "activate": lambda c, ch: c.update(status="active"),
    "category_opt_out": lambda c, ch: c["categories"].update(news=False),
    "category_opt_in": lambda c, ch: c["categories"].update(news=True),
}
steps = st.lists(
    st.one_of(
        st.tuples(st.just("change"), st.sampled_from(sorted(CHANGES)), st.sampled_from(CHANNELS)),
        st.tuples(st.just("attempt"), st.integers(0, 5), st.integers(0, 2)),
        st.tuples(st.just("erase"), st.booleans(), st.just(0)),
    ),
    max_size=30,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_no_provider_call_for_a_contact_not_eligible_at_that_moment(
    plan, sessions, unit_of_work, run
):
    contacts = Contacts(
        copy.deepcopy(
            make_contact(
                subscriptions={c: {"status": "subscribed"} for c in CHANNELS + ("webpush_mobile",)}
            )
        )
    )
    queued = queue_everywhere(unit_of_work, contacts, run)
    ids = list(queued)
    provider = Provider(contacts, queued)
    attempts = dict.fromkeys(ids, 0)
    for kind, what, how in plan:
        if kind == "change" and not contacts.erased:
            CHANGES[what](contacts.contact, how)
        elif kind == "erase":
            contacts.erased = True
            if what:  # messaging has had the contact_deleted event by now
                run(messages.forget_contacts, [contacts.contact["id"]])
        elif kind == "attempt":
            message_id = ids[what]
            attempts[message_id] += 1
            provider.failures = how
            with contextlib.suppress(TemporaryFailure):  # the queue would retry it
                deliver(
                    {"message_id": message_id, "channel": "?"},
                    provider,
                    Port(unit_of_work, contacts),
                    None,
                    attempts[message_id],
                    3,
                )
    assert [call for call in provider.calls if not call[1]] == []
    for message_id in ids:
        try:
            stored = run(messages.get_message, message_id)
        except NotFound:
            assert contacts.erased
            continue
        statuses = [h["status"] for h in stored["history"]]
        # Suppressed or sent once at most, never both.
        assert statuses.count("sent") + statuses.count("suppressed") <= 1, statuses
    run(messages.forget_contacts, [contacts.contact["id"]])  # the next example starts empty


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "inactive"}, "inactive"),
        ({"subscriptions": {"email": {"status": "unsubscribed"}}}, "unsubscribed"),
        ({"blacklists": {"email": {"reason": "bounce"}}}, "blacklisted"),
        ({"categories": {"news": False}}, "category"),
    ],
)
def test_a_withdrawn_consent_suppresses_with_its_reason_in_history_and_feed(
    change, reason, unit_of_work, run, recorded
):
    contacts = Contacts(make_contact())
    body = {
        "contact": {"id": contacts.contact["id"]},
        "channel": "email",
        "category": "news",
        "content": {"subject": "s", "text": "t"},
    }
    queued = send_message(unit_of_work, contacts, SETTINGS, body, "k")
    contacts.contact.update(change)
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {
        "send": False,
        "suppressed": reason,
    }
    stored = run(messages.get_message, queued["id"])
    assert stored["status"] == "suppressed"
    assert stored["history"][-1]["details"]["reason"] == reason
    name, event = recorded()[-1]
    assert (name, event["status"], event["details"]["reason"]) == (
        "message_status",
        "suppressed",
        reason,
    )
    # Claimed again (a redelivery): nothing more is written.
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {"send": False}


def test_an_erased_contacts_message_is_never_sent_and_not_announced(unit_of_work, run, recorded):
    contacts = Contacts(make_contact())
    body = {"contact": {"id": contacts.contact["id"]}, "channel": "sms", "content": {"body": "hi"}}
    queued = send_message(unit_of_work, contacts, SETTINGS, body, "k")
    events_before = len(recorded())
    contacts.erased = True
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {
        "send": False,
        "suppressed": "erased",
    }
    assert len(recorded()) == events_before  # no feed row to bring the contact back
    run(messages.forget_contacts, [contacts.contact["id"]])
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {"send": False}


def test_a_claim_over_its_senders_limit_holds_a_slot_and_leaves_consent_for_later(unit_of_work):
    contacts = Contacts(make_contact())
    body = {"contact": {"id": contacts.contact["id"]}, "channel": "sms", "content": {"body": "hi"}}
    first, second, third = (
        send_message(unit_of_work, contacts, SETTINGS, body, "k")["id"] for _ in range(3)
    )
    limit = {"bucket": "sms", "per_second": 1.0}

    def claim(message_id, limit=limit):
        return claims.claim(unit_of_work, contacts, SETTINGS, message_id, limit, lambda: 1.8e9)

    assert claim(first)["send"] is True
    asked = len(contacts.calls)
    assert claim(second) == {"send": False, "wait": 1.0}
    assert len(contacts.calls) == asked  # consent is judged when the slot comes
    bounces.report_delivery(unit_of_work, contacts, first, "sent", {})
    assert claim(first) == {"send": False}  # sent already: no slot spent on it
    assert claim(third) == {"send": False, "wait": 2.0}
    # Its slot come, the sender claims again without its bucket: consent is judged now.
    contacts.contact["subscriptions"]["sms"] = {"status": "unsubscribed"}
    assert claim(second, None) == {"send": False, "suppressed": "unsubscribed"}
