"""What comes back from a contact through the tracking links: opens, clicks, the
one-click unsubscribe (RFC 8058) and a web push's reports, each from a signed token
(logic.tokens), read under `secrets`: every tracking secret the service accepts, the
newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from plexus.contract import vocab
from plexus.contract.messages import PushReport
from plexus.errors import Invalid
from plexus.parsing import load
from services.messaging.logic import messages, text_links
from services.messaging.logic.tokens import CLICK, OPEN, PUSH, UNSUBSCRIBE, read_token
from services.messaging.ports import ContactsPort

UNSUBSCRIBED = "unsubscribed"


def record_open(session: Session, secrets: Sequence[str], token: str) -> None:
    message_id, _ = read_token(secrets, OPEN, token)
    messages.record_status(session, messages.message_or_404(session, message_id), "open")


def record_click(session: Session, secrets: Sequence[str], token: str) -> str:
    """The URL the link pointed at: the only place /t/c/ ever redirects to. An email
    link's token signs its URL (it has a dot); a text message's short token names the
    message and the link's place in its body (logic/text_links.py)."""
    if "." in (token or ""):
        message_id, url = read_token(secrets, CLICK, token)
        message = messages.message_or_404(session, message_id)
    else:
        message_id, index = text_links.read_short_token(secrets, token)
        message = messages.message_or_404(session, message_id)
        url = text_links.url_at(message.content.get("body") or "", index)
    messages.record_status(session, message, "click", {"url": url})
    return url


# What a web push's service worker or an app reports (POST /t/p/): a click is an open
# too. An app reports delivered and open only (app_push has no click, no dismissed).
PUSH_EVENTS = {
    "delivered": ("delivered",),
    "open": ("open",),
    "click": ("open", "click"),
    "dismissed": ("dismissed",),
}


def record_push_event(session: Session, secrets: Sequence[str], token: str, event) -> dict:
    """A web push's service worker, or an app, reporting on its notification. Each status counts
    once a message (a push is shown once; a repeated report changes nothing), unlike
    an email, which may be opened again and again. NotFound for a bad token, Invalid
    naming `event` for an unknown event."""
    message_id, _ = read_token(secrets, PUSH, token)
    message = messages.message_or_404(session, message_id)
    event = load(PushReport(), {"event": event})["event"]
    if not set(PUSH_EVENTS[event]) <= set(vocab.ACTIVITY_TYPES[message.channel]):
        reason = f"not an event of {message.channel}"
        raise Invalid(f"event {event} is {reason}", {"event": [reason]})
    recorded = [
        status
        for status in PUSH_EVENTS[event]
        if not messages.recorded_before(session, message, status)
        and messages.record_status(session, message, status)
    ]
    return {"message_id": message.id, "event": event, "recorded": recorded}


def unsubscribe_target(session: Session, secrets: Sequence[str], token: str) -> dict:
    message_id, _ = read_token(secrets, UNSUBSCRIBE, token)
    message = messages.message_or_404(session, message_id)
    return {"message_id": message.id, "contact_id": message.contact_id, "channel": message.channel}


def unsubscribe(transaction, contacts: ContactsPort, secrets: Sequence[str], token: str) -> dict:
    with transaction() as session:
        target = unsubscribe_target(session, secrets, token)
    contacts.set_subscription(
        target["contact_id"],
        target["channel"],
        {"status": UNSUBSCRIBED, "reason": "one-click unsubscribe"},
        "tracking",
    )
    with transaction() as session:
        message = messages.message_or_404(session, target["message_id"])
        messages.record_status(session, message, UNSUBSCRIBED)
    return {"channel": target["channel"]}
