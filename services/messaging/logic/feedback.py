"""What comes back from a contact through the tracking links: opens, clicks and the
one-click unsubscribe (RFC 8058), each from a signed token (logic.tokens), read under
`secrets`: every tracking secret the service accepts, the newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from services.messaging.logic import messages
from services.messaging.logic.tokens import CLICK, OPEN, UNSUBSCRIBE, read_token
from services.messaging.ports import ContactsPort

UNSUBSCRIBED = "unsubscribed"


def record_open(session: Session, secrets: Sequence[str], token: str) -> None:
    message_id, _ = read_token(secrets, OPEN, token)
    messages.record_status(session, messages.message_or_404(session, message_id), "open")


def record_click(session: Session, secrets: Sequence[str], token: str) -> str:
    """The URL the link pointed at: the only place /t/c/ ever redirects to."""
    message_id, url = read_token(secrets, CLICK, token)
    messages.record_status(
        session, messages.message_or_404(session, message_id), "click", {"url": url}
    )
    return url


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
