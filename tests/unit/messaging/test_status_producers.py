"""The statuses added to every channel: tracked short links in SMS, Telegram and Viber
text (click), a web push's service worker reports (delivered, open, click, dismissed),
`expired` for a web push or Viber message whose TTL passed undelivered, and Telegram's
`delivered` when the Bot API takes a message."""

from datetime import timedelta

import pytest

from plexus.errors import Invalid, NotFound
from plexus.ids import new_id
from services.messaging.logic import (
    bounces,
    claims,
    expiry,
    feedback,
    messages,
    templates,
    text_links,
)
from services.messaging.logic.sending import send_message
from services.messaging.logic.tokens import PUSH, make_token
from services.messaging.models import Message
from services.messaging.senders.delivery import deliver
from services.messaging.senders.providers.telegram import TelegramProvider
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

SECRETS = SETTINGS.tracking_secrets


@pytest.fixture
def contacts():
    return FakeContacts(make_contact())


def queue(unit_of_work, contacts, channel: str, body: str) -> str:
    data = {"contact": {"email": "ann@x.example"}, "channel": channel, "content": {"body": body}}
    if channel == "viber":  # approved templates only
        with unit_of_work() as session:
            template = {"name": "t", "channel": "viber", "body": body, "approved": True}
            data.pop("content")
            data["template_id"] = templates.create_template(session, template, "admin")["id"]
    return send_message(unit_of_work, contacts, SETTINGS, data, "api-key")["id"]


def history(run, message_id: str) -> list[str]:
    return [h["status"] for h in run(messages.get_message, message_id)["history"]]


# ---------------------------------------------------------------- short links in text


def test_urls_end_before_the_sentence_around_them():
    text = "Sale: https://s.example/a?b=1. Or (https://s.example/c), http://x.example/d!"
    assert [text[a:b] for a, b in text_links.urls(text)] == [
        "https://s.example/a?b=1",
        "https://s.example/c",
        "http://x.example/d",
    ]


def test_a_short_token_is_40_characters_and_only_ours_reads():
    message_id = new_id()
    token = text_links.short_token("s3cret", message_id, 3)
    assert len(token) == 40 and "." not in token
    assert text_links.read_short_token(["old", "s3cret"], token) == (message_id, 3)
    for forged in (
        text_links.short_token("other", message_id, 3),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        token[:20],
        "not base64 at all!",
    ):
        with pytest.raises(NotFound):
            text_links.read_short_token(["s3cret"], forged)


@pytest.mark.parametrize("channel", ["sms", "telegram", "viber"])
def test_text_links_are_tracked_and_a_click_redirects_to_the_nth(
    channel, unit_of_work, contacts, run
):
    body = "Hi! https://s.example/sale?x=1 and https://s.example/faq."
    message_id = queue(unit_of_work, contacts, channel, body)
    delivered = claims.claim(unit_of_work, contacts, SETTINGS, message_id)["delivery"]
    sent = delivered["content"]["body"]
    links = [sent[a:b] for a, b in text_links.urls(sent)]
    assert len(links) == 2 and all(link.startswith("https://t.example/t/c/") for link in links)
    assert sent.startswith("Hi! ") and sent.endswith(".") and "s.example" not in sent
    # A 160-character SMS segment keeps room: a link is the base URL and 45 characters.
    assert {len(link) - len("https://t.example") for link in links} == {45}
    token = links[1].rsplit("/", 1)[1]
    assert run(feedback.record_click, SECRETS, token) == "https://s.example/faq"
    stored = run(messages.get_message, message_id)
    assert stored["history"][-1]["status"] == "click"
    assert stored["history"][-1]["details"] == {"url": "https://s.example/faq"}
    assert stored["content"]["body"] == body  # stored as rendered, untracked


def test_a_short_token_past_the_last_link_is_404(unit_of_work, contacts, run):
    message_id = queue(unit_of_work, contacts, "sms", "one link https://s.example/")
    with pytest.raises(NotFound):
        run(feedback.record_click, SECRETS, text_links.short_token("s3cret", message_id, 1))


# ---------------------------------------------------------------- web push reports


def test_push_reports_count_once_and_a_click_is_an_open_too(unit_of_work, contacts, run):
    message_id = queue(unit_of_work, contacts, "webpush_desktop", "Order shipped")
    delivered = claims.claim(unit_of_work, contacts, SETTINGS, message_id)["delivery"]
    token = delivered["report_token"]
    assert run(feedback.record_push_event, SECRETS, token, "delivered")["recorded"] == ["delivered"]
    assert run(feedback.record_push_event, SECRETS, token, "click")["recorded"] == [
        "open",
        "click",
    ]
    for event in ("delivered", "click", "open"):
        assert run(feedback.record_push_event, SECRETS, token, event)["recorded"] == []
    assert run(feedback.record_push_event, SECRETS, token, "dismissed")["recorded"] == ["dismissed"]
    assert history(run, message_id) == ["queued", "delivered", "open", "click", "dismissed"]
    with pytest.raises(Invalid) as unknown:
        run(feedback.record_push_event, SECRETS, token, "read")
    assert "event" in unknown.value.errors
    with pytest.raises(NotFound):
        run(feedback.record_push_event, SECRETS, make_token("other", PUSH, message_id), "click")
    with pytest.raises(NotFound):  # another kind of token of the same message
        run(feedback.record_push_event, SECRETS, make_token("s3cret", "o", message_id), "click")


# ---------------------------------------------------------------- expired


def test_a_sent_push_or_viber_message_expires_unless_delivered(
    unit_of_work, contacts, run, sessions
):
    ttls = {"webpush_desktop": 60.0, "viber": 60.0}
    pushed = queue(unit_of_work, contacts, "webpush_desktop", "hello")
    arrived = queue(unit_of_work, contacts, "viber", "hello")
    texted = queue(unit_of_work, contacts, "sms", "hello")
    for message_id in (pushed, arrived, texted):
        bounces.report_delivery(
            unit_of_work, contacts, message_id, "sent", {"provider_id": message_id}, ttls
        )
    bounces.report_delivery(unit_of_work, contacts, arrived, "delivered", {}, ttls)
    assert run(expiry.expire_due) == 0  # not due yet
    with unit_of_work() as session:
        due = {m.id: m.expires_at for m in session.query(Message)}
        assert due[texted] is None and due[arrived] is None  # no TTL; delivered
        session.get(Message, pushed).expires_at -= timedelta(seconds=61)
    assert run(expiry.expire_due) == 1
    assert run(expiry.expire_due) == 0  # once
    assert history(run, pushed) == ["queued", "sent", "expired"]
    assert history(run, arrived) == ["queued", "sent", "delivered"]


# ---------------------------------------------------------------- telegram delivered


class Messaging:
    def __init__(self, delivery):
        self.delivery, self.reports = delivery, []

    def claim(self, message_id, limit=None):
        return {"send": True, "delivery": self.delivery}

    def report(self, message_id, status, details):
        self.reports.append(status)


def test_telegram_taking_a_message_is_delivered(monkeypatch):
    from services.messaging.senders.providers import telegram

    monkeypatch.setattr(
        telegram, "post", lambda *a, **k: (200, {"ok": True, "result": {"message_id": 7}})
    )
    provider = TelegramProvider({"token": "1:a"})
    delivery = {"message_id": "m1", "channel": "telegram", "to": "42", "content": {"body": "hi"}}
    messaging = Messaging(delivery)
    assert deliver({"message_id": "m1"}, provider, messaging, None) == "sent"
    assert messaging.reports == ["sent", "delivered"]
