"""Webhook signatures, the way each provider signs, and what their receipts become."""

import base64
import hashlib
import hmac
import json
import urllib.parse

from services.messaging.logic.signatures import hex_hmac_sha256, twilio_signature
from services.messaging.logic.webhooks import receipts, verified

SECRETS = {"twilio": "tw", "telegram": "tg", "viber": "vb", "smtp": "sm"}


def request(body: str, url="https://api.example/webhooks/x", **headers) -> dict:
    return {"url": url, "body": body, "headers": {k.lower().replace("_", "-"): v
                                                  for k, v in headers.items()}}


def test_twilio_signature_is_the_documented_algorithm():
    url, params = "https://x.example/hook?a=1", {"MessageSid": "SM1", "MessageStatus": "sent"}
    expected = base64.b64encode(hmac.new(
        b"tw", (url + "MessageSidSM1MessageStatussent").encode(), hashlib.sha1).digest()).decode()
    assert twilio_signature("tw", url, params) == expected


def test_twilio_webhook_verified_by_url_and_sorted_params():
    form = {"MessageStatus": "delivered", "MessageSid": "SM9"}
    body = urllib.parse.urlencode(form)
    good = twilio_signature("tw", "https://api.example/webhooks/x", form)
    assert verified("twilio", request(body, X_Twilio_Signature=good), SECRETS)
    assert not verified("twilio", request(body, url="https://other/", X_Twilio_Signature=good),
                        SECRETS)
    assert not verified("twilio", request(body + "&x=1", X_Twilio_Signature=good), SECRETS)
    assert receipts("twilio", body)[0].status == "delivered"


def test_viber_and_smtp_sign_the_body():
    body = json.dumps({"event": "seen", "message_token": 5})
    assert verified("viber", request(body, X_Viber_Content_Signature=hex_hmac_sha256(
        "vb", body.encode())), SECRETS)
    assert not verified("viber", request(body, X_Viber_Content_Signature="00"), SECRETS)
    assert receipts("viber", body)[0].status == "open"
    relay = json.dumps({"message_id": "m", "event": "complaint"})
    assert verified("smtp", request(relay, X_Plexus_Signature=hex_hmac_sha256(
        "sm", relay.encode())), SECRETS)
    assert receipts("smtp", relay)[0].status == "complaint"


def test_telegram_compares_its_secret_token():
    assert verified("telegram", request("{}", X_Telegram_Bot_Api_Secret_Token="tg"), SECRETS)
    assert not verified("telegram", request("{}", X_Telegram_Bot_Api_Secret_Token="x"), SECRETS)


def test_without_a_configured_secret_nothing_is_verified():
    for provider in SECRETS:
        assert not verified(provider, request("{}", X_Telegram_Bot_Api_Secret_Token=""), {})
