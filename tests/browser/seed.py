"""A contact with something in every part of its profile, made through the public HTTP
API as a business would: identifiers, personal data, variables, consent on three
channels, notes (one of them hostile markup), custom events and an order over several
days, an email that was sent, and a segment it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from tests.polling import wait_for

# Shown as text by the page, never run: the tests check that nothing of it executes.
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><b>bold?</b>"
BULK = 55
WEBPUSH_ENDPOINT = "https://fcm.googleapis.com/fcm/send/browser-test-device"
WEBPUSH_KEYS = {
    "p256dh": (
        "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
    ),
    "auth": "tBHItJI5svbpez7KI4CCXg",
}


@dataclass
class Seeded:
    contact: dict
    message_id: str
    segment: dict
    other: dict  # a second contact, found by phone
    bulk: list[str]  # the ids of more contacts, made after those (the first one inactive)


def _ok(answer: requests.Response) -> dict:
    assert answer.status_code < 300, f"{answer.request.method} {answer.url}: {answer.text}"
    return answer.json() if answer.content else {}


def _ago(days: int, hours: int = 0) -> str:
    moment = datetime.now(UTC) - timedelta(days=days, hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(http: requests.Session, url: str) -> Seeded:
    api = url + "/v1"
    _ok(http.post(f"{api}/sources", json={"name": "website"}))
    _ok(http.post(f"{api}/categories", json={"name": "newsletter", "description": "weekly news"}))
    _ok(http.post(f"{api}/categories", json={"name": "offers", "description": None}))
    _ok(http.post(f"{api}/variables", json={"name": "plan", "type": "string", "scope": "contact"}))
    _ok(
        http.post(
            f"{api}/variables",
            json={
                "name": "support_phone",
                "type": "string",
                "scope": "account",
                "value": "+380441234567",
            },
        )
    )
    _ok(
        http.post(
            f"{api}/templates",
            json={
                "name": "Welcome",
                "channel": "email",
                "subject": "Welcome, {{ first_name }}",
                "body": "Hi {{ first_name }}, good to have you.",
                "approved": True,
            },
        )
    )
    contact = _ok(
        http.post(
            f"{api}/contacts",
            json={
                "user_id": "u-1001",
                "email": "olena@example.com",
                "phone": "+380501234567",
                "first_name": "Olena",
                "last_name": "Kovalenko",
                "birthday": "1990-04-12",
                "gender": 2,
                "language": "uk",
                "timezone": "Europe/Kyiv",
                "source": "website",
                "contact_score": 42,
                "variables": {"plan": "pro"},
                "categories": {"newsletter": True},
                "address": {"country": "UA", "city": "Kyiv", "street": "Khreshchatyk 1"},
                # The gateway's own file: an avatar that loads offline.
                "avatar_url": f"{url}/ui/avatar.svg",
            },
        )
    )
    one = f"{api}/contacts/{contact['id']}"
    _ok(http.put(f"{one}/channels/telegram", json={"chat_id": "123456789"}))
    _ok(http.put(f"{one}/channels/viber", json={"user_id": "vb-olena-01"}))
    _ok(
        http.post(
            f"{one}/channels/webpush",
            json={"endpoint": WEBPUSH_ENDPOINT, "keys": WEBPUSH_KEYS, "device": "desktop"},
        )
    )
    _ok(
        http.put(
            f"{one}/subscriptions/sms", json={"status": "unsubscribed", "reason": "asked by phone"}
        )
    )
    _ok(http.post(f"{one}/notes", json={"content": "Prefers Viber; call after 18:00"}))
    _ok(http.post(f"{one}/notes", json={"content": HOSTILE}))
    for days, name in (
        (1, "viewed_pricing"),
        (3, "viewed_pricing"),
        (3, "added_to_cart"),
        (6, "viewed_docs"),
        (12, "signed_in"),
        (20, "signed_in"),
    ):
        _ok(
            http.post(
                f"{api}/events",
                json={
                    "contact": {"id": contact["id"]},
                    "name": name,
                    "occurred_at": _ago(days, 2),
                    "properties": {"page": f"/{name}"},
                },
            )
        )
    _ok(
        http.post(
            f"{api}/orders",
            json={
                "contact": {"id": contact["id"]},
                "external_id": "SO-1001",
                "amount": 120,
                "currency": "UAH",
                "status": "paid",
                "occurred_at": _ago(2),
            },
        )
    )
    message = _ok(
        http.post(
            f"{api}/messages",
            json={
                "contact": {"id": contact["id"]},
                "channel": "email",
                "origin": "campaign",
                "content": {"subject": "Our sale, {{ first_name }}", "text": "Everything -20%"},
            },
        )
    )
    segment = _ok(
        http.post(
            f"{api}/segments",
            json={
                "name": "Ukrainian speakers",
                "rule": {"field": "language", "op": "eq", "value": "uk"},
            },
        )
    )
    other = _ok(
        http.post(
            f"{api}/contacts",
            json={"email": "taras@example.com", "phone": "+380671112233", "first_name": "Taras"},
        )
    )

    # More than a page of the contacts list, newest last.
    results = _ok(
        http.post(
            f"{api}/contacts/batch",
            json={"contacts": [{"user_id": f"bulk-{n:02}"} for n in range(BULK)]},
        )
    )["results"]
    bulk = [result["id"] for result in results]
    _ok(http.post(f"{api}/contacts/{bulk[0]}/deactivate"))

    wait_for(
        lambda: any(
            item["type"] == "sent"
            for item in _ok(http.get(f"{one}/activity", params={"channel": "email"}))["data"]
        ),
        20,
        "the email's sent item in the feed",
    )
    wait_for(lambda: _ok(http.get(f"{one}/segments"))["data"], 20, "the segment membership")
    return Seeded(_ok(http.get(one)), message["id"], segment, other, bulk)
