"""`expired`: a sent web push or Viber message whose TTL passed without `delivered`.
The due time is stored on the message when it is sent (`expires_at`, its channel's TTL
later) and cleared by any status after it (`delivered`, a seen or failed receipt, a
click...: the message is no longer unheard of), so a messaging timer reads only the due rows, a
thousand a pass, picked FOR UPDATE SKIP LOCKED on PostgreSQL (another process's pass
takes the others; SQLite's single writer serializes the passes). No provider says a
message expired: a push service drops a push silently when its TTL ends, and Viber
keeps trying a device that is off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.timeutil import utcnow
from services.messaging.logic.messages import record_status
from services.messaging.models import Message

BATCH = 1000
EXPIRED = "expired"


def set_due(message: Message, ttls: dict[str, float]) -> None:
    """On `sent`: when the message expires unless delivered (channels with a TTL)."""
    ttl = ttls.get(message.channel)
    if ttl:
        message.expires_at = utcnow() + timedelta(seconds=ttl)


def expire_due(session: Session, limit: int = BATCH) -> int:
    """Mark the messages whose TTL has passed `expired`; how many."""
    due = session.scalars(
        select(Message)
        .where(Message.expires_at <= utcnow())
        .order_by(Message.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in due:
        message.expires_at = None
        record_status(session, message, EXPIRED, {"reason": "the TTL passed without delivery"})
    return len(due)
