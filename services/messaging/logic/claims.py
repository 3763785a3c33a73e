"""A sender's claim on one message, made right before each attempt to hand it to its
provider: is it still waiting to go, and may its contact still receive it? Consent
is judged now, not when the message was queued: a message can wait minutes behind a
rate limit, a backlog or retries, and an unsubscribe, a deactivation, a black-listing
or an erasure in that time must stop it.

The answer is {"send": true, "delivery": {...}} with the address and the content as
they go out (email links tracked), or {"send": false} with `suppressed` (the reason)
when consent was withdrawn. A suppressed message ends `suppressed` in its history and
the feed, except for an erased contact: nothing of it is written again.

A sender with a rate limit names its bucket (logic/rate_buckets.py): the claim takes the
bucket's next slot, and when that slot is still to come answers {"send": false,
"wait": seconds} without judging consent; the sender waits, then claims again without
a bucket (its slot is held) and consent is judged then, at the moment of sending. A
send within the limit costs no more than the claim: one RPC."""

from __future__ import annotations

import time

from plexus.contract import vocab
from plexus.errors import NotFound
from services.messaging.logic.eligibility import (
    APP_PUSH,
    CONFIRMATION,
    ERASED,
    address,
    refusal,
)
from services.messaging.logic.messages import QUEUED, record_status
from services.messaging.logic.rate_buckets import reserve
from services.messaging.logic.text_links import TEXT_CHANNELS, track_text
from services.messaging.logic.tokens import PUSH, make_token
from services.messaging.logic.tracking import track_html, unsubscribe_url
from services.messaging.models import Message
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings

SUPPRESSED = "suppressed"


def _pending(session, message_id: str) -> Message | None:
    """The message while it waits to go; not one held by quiet hours (its delivery is
    queued when the hold ends: logic/holds.py)."""
    message = session.get(Message, str(message_id or ""))
    waiting = message is not None and message.status == QUEUED and message.held_until is None
    return message if waiting else None


def delivery(settings: Settings, message: dict, to) -> dict:
    """What the provider is handed: for email the links and open pixel tracked and the
    one-click unsubscribe URL; for SMS, Telegram and Viber the links of the text tracked
    (short links: logic/text_links.py); for web push the token its service worker
    reports with (/t/p/), for app push that token and its URL (the app's); a
    subscription form's confirmation as it is (no redirect in front of a consent, no
    unsubscribe from what is not a subscription yet)."""
    content = dict(message["content"])
    built = {
        "message_id": message["id"],
        "contact_id": message["contact_id"],
        "channel": message["channel"],
        "to": to,
        "content": content,
    }
    if message["channel"] == "email" and message.get("purpose") != CONFIRMATION:
        base, secret = settings.tracking_base_url, settings.tracking_secret
        if content.get("html"):
            content["html"] = track_html(content["html"], base, secret, message["id"])
        built["unsubscribe_url"] = unsubscribe_url(base, secret, message["id"])
    elif message["channel"] in TEXT_CHANNELS and message.get("purpose") != CONFIRMATION:
        base, secret = settings.tracking_base_url, settings.tracking_secret
        content["body"] = track_text(content.get("body") or "", base, secret, message["id"])
    elif message["channel"] in vocab.PUSH_REPORTING_CHANNELS:
        token = built["report_token"] = make_token(settings.tracking_secret, PUSH, message["id"])
        if message["channel"] == APP_PUSH:
            # An app has no page origin to post to: it is handed the whole URL.
            built["report_url"] = f"{settings.tracking_base_url.rstrip('/')}/t/p/{token}"
    return built


def claim(
    transaction,
    contacts: ContactsPort,
    settings: Settings,
    message_id: str,
    limit: dict | None = None,
    clock=time.time,
) -> dict:
    """`limit`: the sender's {"bucket", "per_second"}, or None (no limit, or its slot is
    held from the claim before)."""
    with transaction() as session:
        found = _pending(session, message_id)
        if found is None:  # sent already (a redelivery), or erased: no slot spent
            return {"send": False}
        # The real clock, not the suite's (plexus.clock): the sender sleeps in real time.
        wait = reserve(session, limit["bucket"], limit["per_second"], clock()) if limit else 0
        if wait:
            return {"send": False, "wait": wait}
        message = {
            "id": found.id,
            "contact_id": found.contact_id,
            "channel": found.channel,
            "category": found.category,
            "purpose": found.purpose,
            "content": dict(found.content),
        }
    try:
        contact = contacts.get_contact(message["contact_id"])
    except NotFound:
        contact = None
    refused = refusal(contact, message["channel"], message["category"], message["purpose"])
    if refused is None:
        return {
            "send": True,
            "delivery": delivery(settings, message, address(contact, message["channel"])),
        }
    if refused.reason != ERASED:
        with transaction() as session:
            pending = _pending(session, message_id)
            if pending is not None:
                record_status(
                    session,
                    pending,
                    SUPPRESSED,
                    {"reason": refused.reason, "detail": refused.detail},
                )
    return {"send": False, "suppressed": refused.reason}
