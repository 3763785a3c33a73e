"""A sender delivering one message: it claims the message first and sends only what the
claim hands over (skipped when already sent, suppressed when consent was withdrawn),
reports it sent once; a permanent failure ends it, a temporary one is retried (raised)
and reported as failed on the last attempt only. Over its rate limit it waits for the
slot the claim took, then claims again."""

import smtplib

import pytest

from services.messaging.senders.delivery import deliver
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure
from services.messaging.senders.providers.smtp import build_email

QUEUED = {"message_id": "m1", "channel": "sms", "attempt": 1}
DELIVERY = {
    "message_id": "m1",
    "contact_id": "c1",
    "channel": "sms",
    "to": "+380501234567",
    "content": {"body": "hi"},
}


class Messaging:
    """Messaging's claim and report; `wait`: what a claim naming a bucket answers."""

    def __init__(self, pending=True, suppressed=None, wait=0.0):
        self.pending, self.suppressed, self.reports, self.claims = pending, suppressed, [], 0
        self.wait, self.limits = wait, []

    def claim(self, message_id, limit=None):
        self.claims += 1
        self.limits.append(limit)
        if limit and self.wait:
            return {"send": False, "wait": self.wait}
        if self.suppressed:
            return {"send": False, "suppressed": self.suppressed}
        return {"send": True, "delivery": DELIVERY} if self.pending else {"send": False}

    def report(self, message_id, status, details):
        self.reports.append((status, details))
        self.pending = False


class Provider:
    name = "fake"

    def __init__(self, *outcomes):
        self.outcomes, self.sent = list(outcomes), []

    def send(self, delivery):
        outcome = self.outcomes.pop(0) if self.outcomes else "id-1"
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(delivery)
        return outcome


def test_sent_and_reported_with_the_provider_id():
    messaging, provider = Messaging(), Provider("SM1")
    assert deliver(QUEUED, provider, messaging, None) == "sent"
    assert messaging.reports == [("sent", {"provider_id": "SM1", "provider": "fake"})]


def test_a_message_sent_already_is_not_sent_again():
    provider = Provider()
    assert deliver(QUEUED, provider, Messaging(pending=False), None) == "skipped"
    assert provider.sent == []


def test_a_message_whose_consent_was_withdrawn_is_suppressed_unsent():
    provider, messaging = Provider(), Messaging(suppressed="unsubscribed")
    assert deliver(QUEUED, provider, messaging, None) == "suppressed"
    assert provider.sent == [] and messaging.reports == []


def test_every_attempt_claims_again():
    messaging = Messaging()
    provider = Provider(TemporaryFailure("503"), "SM2")
    with pytest.raises(TemporaryFailure):
        deliver(QUEUED, provider, messaging, None, 1, 5)
    messaging.suppressed = "blacklisted"
    assert deliver(QUEUED, provider, messaging, None, 2, 5) == "suppressed"
    assert messaging.claims == 2 and provider.sent == []


def test_fails_twice_then_succeeds_delivers_once():
    messaging = Messaging()
    provider = Provider(TemporaryFailure("503"), TemporaryFailure("503"), "SM2")
    for attempt in (1, 2):
        with pytest.raises(TemporaryFailure):
            deliver(QUEUED, provider, messaging, None, attempt, 5)
        assert messaging.reports == []
    assert deliver(QUEUED, provider, messaging, None, 3, 5) == "sent"
    assert len(provider.sent) == 1 and [s for s, _ in messaging.reports] == ["sent"]


def test_the_last_temporary_failure_is_reported_then_raised_for_the_dead_letters():
    messaging = Messaging()
    with pytest.raises(TemporaryFailure):
        deliver(QUEUED, Provider(TemporaryFailure("down")), messaging, None, 5, 5)
    assert messaging.reports == [("fail", {"reason": "down", "provider": "fake", "attempts": 5})]


def test_a_permanent_failure_ends_the_message():
    messaging = Messaging()
    outcome = deliver(QUEUED, Provider(PermanentFailure("reject", "bad number")), messaging, None)
    assert outcome == "reject" and messaging.reports[0][0] == "reject"


def test_the_email_carries_one_click_unsubscribe_headers():
    email = build_email(
        {
            "message_id": "m1",
            "to": "ann@x.example",
            "unsubscribe_url": "https://t.example/t/u/tok",
            "content": {"subject": "Hi", "text": "t", "html": "<p>h</p>"},
        },
        "Shop <news@shop.example>",
    )
    assert email["List-Unsubscribe"] == "<https://t.example/t/u/tok>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Message-ID"].endswith("@shop.example>")
    assert email.get_body(("html",)).get_content().strip() == "<p>h</p>"


def test_smtp_answers_map_to_bounces(monkeypatch):
    from services.messaging.senders.providers import smtp

    class Refusing:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            raise smtplib.SMTPRecipientsRefused({"x@y": (self.code, b"no")})

    provider = smtp.SmtpProvider({"host": "h", "port": 25})
    delivery = {"message_id": "m", "to": "x@y", "content": {"subject": "s", "text": "t"}}
    monkeypatch.setattr(smtp.smtplib, "SMTP", Refusing)
    Refusing.code = 550
    with pytest.raises(PermanentFailure) as hard:
        provider.send(delivery)
    assert hard.value.status == "hard_bounce"
    Refusing.code = 451
    with pytest.raises(TemporaryFailure):
        provider.send(delivery)


class RecordingMeter:
    def __init__(self):
        self.calls, self.waits = [], []

    def waited(self, seconds):
        self.waits.append(seconds)

    def provider_call(self, provider, outcome, seconds):
        self.calls.append((provider, outcome))


def test_provider_latency_and_outcome_are_metered():
    meter = RecordingMeter()
    deliver(QUEUED, Provider(), Messaging(), None, meter=meter)
    with pytest.raises(TemporaryFailure):
        deliver(QUEUED, Provider(TemporaryFailure("down")), Messaging(), None, 1, 5, meter=meter)
    deliver(QUEUED, Provider(PermanentFailure("reject", "bad")), Messaging(), None, meter=meter)
    assert [outcome for _, outcome in meter.calls] == [
        "accepted",
        "temporary_failure",
        "permanent_failure",
    ]
    assert meter.waits == []  # within the limit: no wait


LIMIT = {"bucket": "sms", "per_second": 10.0}


def test_over_the_limit_it_waits_for_its_slot_then_claims_again_without_a_bucket():
    messaging, provider, meter, slept = Messaging(wait=0.25), Provider(), RecordingMeter(), []

    def sleep(seconds):
        slept.append(seconds)
        assert provider.sent == [] and messaging.claims == 1  # nothing claimed for it yet

    assert deliver(QUEUED, provider, messaging, LIMIT, meter=meter, sleep=sleep) == "sent"
    assert slept == [0.25] and meter.waits == [0.25]
    # The slot is held: the second claim takes no other, and judges consent now.
    assert messaging.limits == [LIMIT, None] and len(provider.sent) == 1


def test_consent_withdrawn_while_waiting_for_the_slot_stops_the_message():
    messaging, provider = Messaging(wait=0.25), Provider()

    def sleep(seconds):
        messaging.suppressed = "unsubscribed"

    assert deliver(QUEUED, provider, messaging, LIMIT, sleep=sleep) == "suppressed"
    assert provider.sent == []


def test_within_the_limit_a_send_is_one_claim():
    messaging = Messaging()
    assert deliver(QUEUED, Provider(), messaging, LIMIT, sleep=pytest.fail) == "sent"
    assert messaging.limits == [LIMIT]
