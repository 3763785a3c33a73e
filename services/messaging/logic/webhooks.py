"""Delivery receipts and bounces from providers (POST /webhooks/{provider}): check the
provider's signature, turn its words into the channel's statuses (activity
types of plexus.contract.vocab), record them, and say which emails go on the black list.

`request` is what the gateway saw: {"url", "headers" (names lower-cased), "body" (text)}."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plexus.errors import NotFound
from services.messaging.logic import bounces, messages
from services.messaging.logic.signatures import (
    hex_hmac_sha256,
    relay_signature,
    same,
    twilio_signature,
)
from services.messaging.models import Message
from services.messaging.ports import ContactsPort

TWILIO_STATUS = {"delivered": "delivered", "undelivered": "fail", "failed": "reject"}
VIBER_STATUS = {"delivered": "delivered", "seen": "open", "failed": "fail"}
SMTP_STATUS = ("delivered", "soft_bounce", "hard_bounce", "complaint", "reject")
PROVIDERS = ("twilio", "telegram", "viber", "smtp")
# A signed request whose signed time is further than this from ours is refused: a
# captured one cannot be sent again later (SMTP relay, Viber; Twilio and Telegram sign
# no time).
REPLAY_WINDOW = 300.0  # seconds


@dataclass(frozen=True)
class Receipt:
    status: str
    provider_id: str | None = None  # the provider's id of the message
    message_id: str | None = None  # ours, where the provider echoes it
    reason: str | None = None


def _json(body: str) -> dict:
    try:
        value = json.loads(body or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _fresh(seconds, now: float) -> bool:
    try:
        return abs(now - float(seconds)) <= REPLAY_WINDOW
    except (TypeError, ValueError, OverflowError):
        return False


def verified(provider: str, request: dict, secrets: dict, now: float | None = None) -> bool:
    """`secrets` maps a provider to its key: the Twilio auth token, the Telegram
    webhook secret, the Viber auth token, the SMTP relay's shared secret. A Viber
    callback's `timestamp` (ms) and the relay's X-Plexus-Timestamp (s) must be within
    REPLAY_WINDOW of `now`."""
    headers, body, secret = request["headers"], request["body"], secrets.get(provider) or ""
    now = time.time() if now is None else now
    if provider == "twilio":
        params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        return same(
            twilio_signature(secret, request["url"], params) if secret else "",
            headers.get("x-twilio-signature"),
        )
    if provider == "telegram":
        return same(secret, headers.get("x-telegram-bot-api-secret-token"))
    if provider == "viber":
        stamp = _json(body).get("timestamp")
        return (
            same(
                hex_hmac_sha256(secret, body.encode()) if secret else "",
                headers.get("x-viber-content-signature"),
            )
            and isinstance(stamp, int | float)
            and _fresh(stamp / 1000, now)
        )
    if provider == "smtp":
        stamp = headers.get("x-plexus-timestamp") or ""
        return same(
            relay_signature(secret, stamp, body.encode()) if secret else "",
            headers.get("x-plexus-signature"),
        ) and _fresh(stamp, now)
    return False


def receipts(provider: str, body: str) -> list[Receipt]:
    if provider == "twilio":
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        status = TWILIO_STATUS.get(form.get("MessageStatus", ""))
        reason = form.get("ErrorCode") or None
        return (
            [Receipt(status, provider_id=form.get("MessageSid"), reason=reason)] if status else []
        )
    if provider == "viber":
        event = _json(body)
        status = VIBER_STATUS.get(event.get("event", ""))
        return (
            [Receipt(status, provider_id=str(event.get("message_token")), reason=event.get("desc"))]
            if status
            else []
        )
    if provider == "smtp":
        event = _json(body)
        if event.get("event") not in SMTP_STATUS:
            return []
        return [
            Receipt(
                event["event"],
                provider_id=event.get("provider_id"),
                message_id=event.get("message_id"),
                reason=event.get("reason"),
            )
        ]
    # Telegram sends updates (chats, replies), never receipts: accepted, nothing to record.
    return []


def apply_receipts(session: Session, found: list[Receipt]) -> list[bounces.Listing]:
    """Record each receipt on its message (unknown messages are skipped: a provider
    retries a webhook that fails); the black-listings the new ones make."""
    to_blacklist = []
    for receipt in found:
        message = (
            session.get(Message, receipt.message_id)
            if receipt.message_id
            else messages.by_provider_id(session, receipt.provider_id or "")
        )
        if message is None:
            continue
        if messages.record_status(session, message, receipt.status, {"reason": receipt.reason}):
            listing = bounces.listing(message, receipt.status, receipt.reason)
            if listing:
                to_blacklist.append(listing)
    return to_blacklist


def handle_webhook(
    transaction, contacts: ContactsPort, secrets: dict, provider: str, request: dict
) -> dict:
    """One provider's webhook call: verified, its receipts recorded, bounced and
    complaining addresses black-listed."""
    if provider not in PROVIDERS:
        raise NotFound(f"no webhook for {provider}")
    if not verified(provider, request, secrets):
        return {"verified": False, "recorded": 0}
    found = receipts(provider, request["body"])
    with transaction() as session:
        listings = apply_receipts(session, found)
    bounces.blacklist(contacts, listings, f"webhook:{provider}")
    return {"verified": True, "recorded": len(found)}
