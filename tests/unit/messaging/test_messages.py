"""Sending, statuses and their events, resend, templates, webhooks and erasure, on
SQLite with a fake contacts service."""

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from plexus.db import transaction
from plexus.errors import Conflict, Invalid, NotFound
from plexus.timeutil import utcnow
from services.messaging.logic import bounces, claims, feedback, messages, templates, webhooks
from services.messaging.logic.sending import resend_message, send_message
from services.messaging.logic.signatures import relay_signature
from services.messaging.logic.tokens import CLICK, OPEN, make_token
from services.messaging.models import DeliveryOutbox, StatusChange
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

EMAIL = {"subject": "Hi {{ first_name }}", "html": "<a href='https://s.example/'>go</a>"}


@pytest.fixture
def contacts():
    return FakeContacts(make_contact())


def send(unit_of_work, contacts, **body):
    body = {"contact": {"email": "ann@x.example"}, "channel": "email", "content": EMAIL, **body}
    return send_message(unit_of_work, contacts, SETTINGS, body, "api-key")


def test_send_stores_queues_and_announces(unit_of_work, contacts, run, recorded):
    queued = send(unit_of_work, contacts, origin="campaign", data={"x": 1})
    assert queued["status"] == "queued"
    stored = run(messages.get_message, queued["id"])
    assert stored["content"]["subject"] == "Hi Ann" and stored["origin"] == "campaign"
    assert [h["status"] for h in stored["history"]] == ["queued"]
    ((name, event),) = recorded()
    assert name == "message_queued" and event["message_id"] == queued["id"]
    assert set(event) >= {"contact_id", "channel", "origin", "category", "template_id", "resend_of"}
    ((channel, queued_body),) = recorded(DeliveryOutbox)
    # The sender's queue holds the id only; the claim hands over address and content.
    assert channel == "email" and queued_body["message_id"] == queued["id"]
    assert not {"to", "content", "contact_id"} & set(queued_body)
    claimed = claims.claim(unit_of_work, contacts, SETTINGS, queued["id"])
    delivery = claimed["delivery"]
    assert claimed["send"] and delivery["to"] == "ann@x.example"
    assert "https://t.example/t/c/" in delivery["content"]["html"]
    assert delivery["unsubscribe_url"].startswith("https://t.example/t/u/")
    assert "s.example" in stored["content"]["html"]  # stored as rendered, untracked


def test_unknown_contact_is_422_and_bad_body_names_fields(unit_of_work, contacts):
    with pytest.raises(Invalid) as unknown:
        send(unit_of_work, contacts, contact={"email": "nobody@x.example"})
    assert "contact" in unknown.value.errors
    with pytest.raises(Invalid) as bad:
        send(unit_of_work, contacts, content={"text": "no subject"})
    assert "content.subject" in bad.value.errors


def test_statuses_once_each_and_each_open_or_link_once_a_minute(
    unit_of_work, contacts, run, recorded, monkeypatch
):
    queued = send(unit_of_work, contacts)

    def report(status, details):
        return bounces.report_delivery(unit_of_work, contacts, queued["id"], status, details)

    assert report("sent", {"provider_id": "p1"})
    assert not report("sent", {"provider_id": "p1"})
    assert claims.claim(unit_of_work, contacts, SETTINGS, queued["id"]) == {"send": False}
    secret = SETTINGS.tracking_secret
    opened = make_token(secret, OPEN, queued["id"])
    run(feedback.record_open, secret, opened)
    run(feedback.record_open, secret, opened)  # the same minute: not again
    for url in ("https://a.example/", "https://b.example/", "https://a.example/"):
        assert (
            run(feedback.record_click, secret, make_token(secret, CLICK, queued["id"], url)) == url
        )
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(messages, "utcnow", lambda: later)
    run(feedback.record_open, secret, opened)  # a minute on: it counts
    with pytest.raises(Invalid):
        report("seen", {})
    assert [
        (h["status"], h["details"].get("url"))
        for h in run(messages.get_message, queued["id"])["history"]
    ] == [
        ("queued", None),
        ("sent", None),
        ("open", None),
        ("click", "https://a.example/"),
        ("click", "https://b.example/"),
        ("open", None),
    ]
    names = [name for name, _ in recorded()]
    assert names == ["message_queued", "message_sent"] + ["message_status"] * 4


def test_a_link_hit_in_a_loop_keeps_a_bounded_history(
    unit_of_work, contacts, run, recorded, monkeypatch
):
    queued = send(unit_of_work, contacts)
    secret, start = SETTINGS.tracking_secret, utcnow()
    token = make_token(secret, CLICK, queued["id"], "https://s.example/")
    for minute in range(messages.MAX_REPEATS + 50):
        monkeypatch.setattr(
            messages, "utcnow", lambda minute=minute: start + timedelta(minutes=minute)
        )
        for _ in range(2):  # twice in each minute
            assert run(feedback.record_click, secret, token) == "https://s.example/"
    history = run(messages.get_message, queued["id"])["history"]
    assert [h["status"] for h in history] == ["queued"] + ["click"] * messages.MAX_REPEATS
    assert len(recorded()) == 1 + messages.MAX_REPEATS


def test_a_status_is_added_without_loading_the_history(unit_of_work, contacts, run, sessions):
    queued = send(unit_of_work, contacts)
    with transaction(sessions) as session:
        session.add_all(
            StatusChange(message_id=queued["id"], status="open", at=utcnow(), details={})
            for _ in range(500)
        )
    with transaction(sessions) as session:
        message = messages.message_or_404(session, queued["id"])
        assert messages.record_status(session, message, "delivered")
        assert not messages.record_status(session, message, "open")  # 500 kept already
        assert "history" in inspect(message).unloaded
        assert not any(isinstance(row, StatusChange) for row in session.identity_map.values())


def test_resend_links_the_original_and_reuses_its_content(unit_of_work, contacts, run):
    first = send(unit_of_work, contacts)
    again = resend_message(unit_of_work, contacts, first["id"], "api-key")
    stored = run(messages.get_message, again["id"])
    assert stored["resend_of"] == first["id"]
    assert stored["content"] == run(messages.get_message, first["id"])["content"]
    contacts.contact["status"] = "inactive"
    with pytest.raises(Conflict):
        resend_message(unit_of_work, contacts, first["id"], "api-key")


def test_templates_render_and_viber_needs_approval(unit_of_work, contacts, run):
    template = run(
        templates.create_template,
        {"name": "w", "channel": "viber", "body": "Hi {{ first_name }} ({{ plan }})"},
        "tester",
    )
    with pytest.raises(Conflict):
        send(unit_of_work, contacts, channel="viber", content=None, template_id=template["id"])
    run(templates.update_template, template["id"], {"approved": True}, "tester")
    queued = send(unit_of_work, contacts, channel="viber", content=None, template_id=template["id"])
    assert run(messages.get_message, queued["id"])["content"] == {"body": "Hi Ann (gold)"}
    with pytest.raises(Invalid):
        send(unit_of_work, contacts, channel="sms", content=None, template_id=template["id"])
    page = run(templates.list_templates, 1)
    assert len(page["data"]) == 1 and page["next_cursor"] is None


def test_hard_bounce_receipt_asks_for_the_black_list(unit_of_work, contacts, run):
    queued = send(unit_of_work, contacts)
    found = [
        webhooks.Receipt("hard_bounce", message_id=queued["id"], reason="550 gone"),
        webhooks.Receipt("delivered", provider_id="unknown"),
    ]
    assert run(webhooks.apply_receipts, found) == [
        bounces.Listing(contacts.contact["id"], "550 gone", "hard_bounce")
    ]
    assert run(messages.get_message, queued["id"])["status"] == "hard_bounce"
    # The same receipt again lists nothing: an address someone took off stays off.
    assert run(webhooks.apply_receipts, found) == []


def test_a_signed_complaint_lists_the_contacts_current_email(unit_of_work, contacts):
    queued = send(unit_of_work, contacts)
    body = json.dumps({"event": "complaint", "message_id": queued["id"], "reason": "spam"})
    stamp = str(int(time.time()))
    request = {
        "url": "https://x/webhooks/smtp",
        "body": body,
        "headers": {
            "x-plexus-timestamp": stamp,
            "x-plexus-signature": relay_signature("k", stamp, body.encode()),
        },
    }
    assert webhooks.handle_webhook(unit_of_work, contacts, {"smtp": "k"}, "smtp", request) == {
        "verified": True,
        "recorded": 1,
    }
    assert (
        "blacklist_address",
        ("email", "ann@x.example", "spam", "complaint", "webhook:smtp"),
        {},
    ) in contacts.calls


def test_a_hard_bounce_at_send_time_lists_the_address(unit_of_work, contacts):
    queued = send(unit_of_work, contacts)
    assert bounces.report_delivery(
        unit_of_work, contacts, queued["id"], "hard_bounce", {"reason": "SMTP 550: no such user"}
    )
    assert (
        "blacklist_address",
        ("email", "ann@x.example", "SMTP 550: no such user", "hard_bounce", "sender:email"),
        {},
    ) in contacts.calls


def test_erasing_a_contact_forgets_its_messages(unit_of_work, contacts, run):
    queued = send(unit_of_work, contacts)
    assert run(messages.forget_contacts, [contacts.contact["id"]]) == 1
    with pytest.raises(NotFound):
        run(messages.get_message, queued["id"])
