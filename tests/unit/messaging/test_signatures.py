"""Webhook signatures, the way each provider signs, and what their receipts become."""

import base64
import hashlib
import hmac
import json
import urllib.parse

from services.messaging.logic.signatures import (
    hex_hmac_sha256,
    relay_signature,
    twilio_signature,
)
from services.messaging.logic.webhooks import receipts, verified

SECRETS = {"twilio": "tw", "telegram": "tg", "viber": "vb", "smtp": "sm"}
NOW = 1_800_000_000


def request(body: str, url="https://api.example/webhooks/x", **headers) -> dict:
    return {
        "url": url,
        "body": body,
        "headers": {k.lower().replace("_", "-"): v for k, v in headers.items()},
    }


def test_twilio_signature_is_the_documented_algorithm():
    url, params = "https://x.example/hook?a=1", {"MessageSid": "SM1", "MessageStatus": "sent"}
    expected = base64.b64encode(
        hmac.new(b"tw", (url + "MessageSidSM1MessageStatussent").encode(), hashlib.sha1).digest()
    ).decode()
    assert twilio_signature("tw", url, params) == expected


def test_twilio_webhook_verified_by_url_and_sorted_params():
    form = {"MessageStatus": "delivered", "MessageSid": "SM9"}
    body = urllib.parse.urlencode(form)
    good = twilio_signature("tw", "https://api.example/webhooks/x", form)
    assert verified("twilio", request(body, X_Twilio_Signature=good), SECRETS)
    assert not verified(
        "twilio", request(body, url="https://other/", X_Twilio_Signature=good), SECRETS
    )
    assert not verified("twilio", request(body + "&x=1", X_Twilio_Signature=good), SECRETS)
    assert receipts("twilio", body)[0].status == "delivered"


def test_viber_signs_its_body_with_a_timestamp_that_must_be_recent():
    body = json.dumps({"event": "seen", "message_token": 5, "timestamp": NOW * 1000})
    signature = hex_hmac_sha256("vb", body.encode())
    assert verified("viber", request(body, X_Viber_Content_Signature=signature), SECRETS, NOW)
    assert not verified("viber", request(body, X_Viber_Content_Signature="00"), SECRETS, NOW)
    assert receipts("viber", body)[0].status == "open"
    # The same request, genuine, sent again 6 minutes later (or stamped 6 in the future):
    for later in (NOW + 360, NOW - 360):
        assert not verified(
            "viber", request(body, X_Viber_Content_Signature=signature), SECRETS, later
        )
    unstamped = json.dumps({"event": "seen", "message_token": 5})
    assert not verified(
        "viber",
        request(unstamped, X_Viber_Content_Signature=hex_hmac_sha256("vb", unstamped.encode())),
        SECRETS,
        NOW,
    )


def test_the_smtp_relay_signs_timestamp_dot_body_within_five_minutes():
    relay = json.dumps({"message_id": "m", "event": "complaint"})
    stamp = str(NOW)
    signature = relay_signature("sm", stamp, relay.encode())
    assert signature == hex_hmac_sha256("sm", f"{stamp}.{relay}".encode())
    good = request(relay, X_Plexus_Timestamp=stamp, X_Plexus_Signature=signature)
    assert verified("smtp", good, SECRETS, NOW + 299)
    assert receipts("smtp", relay)[0].status == "complaint"
    assert not verified("smtp", good, SECRETS, NOW + 301)  # replayed later
    # The body's own HMAC (the old scheme) or a timestamp moved forward: both refused.
    assert not verified(
        "smtp",
        request(
            relay,
            X_Plexus_Timestamp=stamp,
            X_Plexus_Signature=hex_hmac_sha256("sm", relay.encode()),
        ),
        SECRETS,
        NOW,
    )
    moved = request(relay, X_Plexus_Timestamp=str(NOW + 200), X_Plexus_Signature=signature)
    assert not verified("smtp", moved, SECRETS, NOW + 200)
    assert not verified("smtp", request(relay, X_Plexus_Signature=signature), SECRETS, NOW)


def test_telegram_compares_its_secret_token():
    assert verified("telegram", request("{}", X_Telegram_Bot_Api_Secret_Token="tg"), SECRETS)
    assert not verified("telegram", request("{}", X_Telegram_Bot_Api_Secret_Token="x"), SECRETS)


def test_without_a_configured_secret_nothing_is_verified():
    for provider in SECRETS:
        assert not verified(provider, request("{}", X_Telegram_Bot_Api_Secret_Token=""), {})
