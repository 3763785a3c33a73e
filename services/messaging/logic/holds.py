"""Releasing messages held by quiet hours: a messaging timer hands the ones whose hold
has ended to their senders (the delivery outbox), a thousand a pass. The release is one
UPDATE that clears `held_until` and answers the rows it changed, so a message is
released once whatever runs beside it: on PostgreSQL the rows are picked FOR UPDATE
SKIP LOCKED (another process's pass takes the others), on SQLite the process's single
writer serializes the passes. Nothing waits in memory: a restart finds the holds in the
table."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plexus.outbox import record_events
from plexus.timeutil import utcnow
from services.messaging.logic.queueing import QUEUED, delivery
from services.messaging.models import DeliveryOutbox, Message

BATCH = 1000


def release_due(session: Session, limit: int = BATCH) -> int:
    """Hand the messages whose hold has ended to their senders; how many."""
    now = utcnow()
    due = (
        select(Message.id)
        .where(Message.held_until <= now, Message.status == QUEUED)
        .order_by(Message.held_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    released = session.execute(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()), Message.held_until.is_not(None))
        .values(held_until=None)
        .returning(Message.id, Message.channel)
        .execution_options(synchronize_session=False)
    ).all()
    record_events(session, DeliveryOutbox, [delivery(row.id, row.channel) for row in released])
    return len(released)
