"""Messages as stored: queueing one (row, history, event, delivery for its sender),
recording each later status, reading one back, and forgetting a contact's."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.errors import Invalid, NotFound
from plexus.outbox import forget_contact, record_event
from plexus.paging import page
from plexus.timeutil import rfc3339, utcnow
from services.messaging.logic.queueing import QUEUED, NewMessage, common_payload, store_queued
from services.messaging.models import Message, Outbox, StatusChange

SENT = "sent"
# Statuses a message may reach many times (every open, every click); any other is
# recorded once, so a provider repeating a receipt changes nothing.
REPEATABLE = frozenset({"open", "click"})
# The tracking links are public: a mail scanner or a script may hit one in a loop. The
# same open pixel or link counts once a minute, and a message keeps at most
# MAX_REPEATS opens and clicks; beyond, a hit records nothing (no history, no event,
# so no feed row either).
REPEAT_WINDOW = timedelta(minutes=1)
MAX_REPEATS = 100


def message_resource(message: Message) -> dict:
    return {
        "id": message.id,
        "contact_id": message.contact_id,
        "channel": message.channel,
        "origin": message.origin,
        "category": message.category,
        "template_id": message.template_id,
        "resend_of": message.resend_of,
        "purpose": message.purpose,
        "trigger": message.trigger,
        "status": message.status,
        "content": dict(message.content),
        "created_at": rfc3339(message.created_at),
        "history": [
            {"status": h.status, "at": rfc3339(h.at), "details": dict(h.details or {})}
            for h in message.history
        ],
    }


def message_or_404(session: Session, message_id: str) -> Message:
    message = session.get(Message, str(message_id or ""))
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def get_message(session: Session, message_id: str) -> dict:
    return message_resource(message_or_404(session, message_id))


def _common(message: Message) -> dict:
    return common_payload(message)


def queue_message(
    session: Session,
    *,
    contact_id: str,
    channel: str,
    origin: str | None,
    category: str | None,
    template_id: str | None,
    resend_of: str | None,
    content: dict,
    actor: str,
    purpose: str | None = None,
) -> dict:
    """Store one message as queued (logic/queueing.py, as a batch's are). `purpose`:
    eligibility.PURPOSES, None for the business's own messages."""
    (message,) = store_queued(
        session,
        [
            NewMessage(
                contact_id=contact_id,
                channel=channel,
                origin=origin,
                category=category,
                template_id=template_id,
                resend_of=resend_of,
                purpose=purpose,
                content=content,
            )
        ],
        actor,
    )
    return {"id": message.id, "status": QUEUED}


def recorded_before(session: Session, message: Message, status: str) -> bool:
    return (
        session.scalar(
            select(StatusChange.id)
            .where(StatusChange.message_id == message.id, StatusChange.status == status)
            .limit(1)
        )
        is not None
    )


def _repeat_adds_nothing(
    session: Session, message: Message, status: str, details: dict, now: datetime
) -> bool:
    """An open or click already counted this minute (the same link: its URL), or one
    more than the message keeps."""
    kept = session.scalars(
        select(StatusChange.id)
        .where(StatusChange.message_id == message.id, StatusChange.status.in_(REPEATABLE))
        .limit(MAX_REPEATS)
    ).all()
    if len(kept) >= MAX_REPEATS:
        return True
    recent = session.scalars(
        select(StatusChange.details).where(
            StatusChange.message_id == message.id,
            StatusChange.status == status,
            StatusChange.at > now - REPEAT_WINDOW,
        )
    ).all()
    return any((entry or {}).get("url") == details.get("url") for entry in recent)


def record_status(
    session: Session, message: Message, status: str, details: dict | None = None
) -> bool:
    """Add a status to the history and announce it; False when it changed nothing.
    The history is asked two small questions, never loaded: a message may have a long
    one, and every open and click comes here."""
    details = {k: v for k, v in (details or {}).items() if v is not None}
    if status not in vocab.ACTIVITY_TYPES[message.channel]:
        raise Invalid(
            f"{status} is not a status of {message.channel}",
            {"status": [f"not a status of {message.channel}"]},
        )
    now = utcnow()
    if status in REPEATABLE:
        if _repeat_adds_nothing(session, message, status, details, now):
            return False
    elif recorded_before(session, message, status):
        return False
    session.add(StatusChange(message_id=message.id, status=status, at=now, details=details))
    message.status = status
    message.updated_at = now
    if status != SENT:  # any word after `sent` (delivered, seen, failed...): no expiry
        message.expires_at = None
    if status == SENT:
        message.provider_id = details.get("provider_id")
        record_event(
            session,
            Outbox,
            events.MESSAGE_SENT,
            {**_common(message), "provider_id": message.provider_id},
        )
    else:
        record_event(
            session,
            Outbox,
            events.MESSAGE_STATUS,
            {**_common(message), "status": status, "details": details},
        )
    return True


def by_provider_id(session: Session, provider_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.provider_id == str(provider_id)).limit(1)
    ).first()


def forget_contacts(session: Session, contact_ids: list[str]) -> int:
    """Erase every message of erased contacts (GDPR): the history goes with them, and so
    do their events not published yet. Their deliveries still queued hold only ids, and
    the claim finds no message to send for them."""
    ids = session.scalars(select(Message.id).where(Message.contact_id.in_(contact_ids))).all()
    if ids:
        session.execute(delete(StatusChange).where(StatusChange.message_id.in_(ids)))
        session.execute(delete(Message).where(Message.id.in_(ids)))
    for contact_id in contact_ids:
        forget_contact(session, Outbox, contact_id)
    return len(ids)


def contact_messages(
    session: Session, contact_id: str, cursor: str | None = None, size: int = 200
) -> dict:
    """One contact's messages, oldest first, a page at a time (the data export's)."""
    size = max(1, min(int(size or 200), 1000))
    return page(
        session,
        select(Message).where(Message.contact_id == str(contact_id)),
        Message.id,
        size,
        str(cursor) if cursor else None,
        message_resource,
    )
