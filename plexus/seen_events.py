"""Applying an event once: the broker delivers at least once, so a consumer that counts
or moves something keeps the ids of the events it applied (the table `seen_events` in
its own database) and skips one it has seen. Redeliveries come within minutes; a week
of ids is plenty."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from plexus.bulk import insert_new
from plexus.timeutil import utcnow

SEEN_EVENTS_KEPT = timedelta(days=7)


class SeenEventColumns:
    """The columns of a service's `seen_events` model (`class SeenEvent(SeenEventColumns,
    Base)`)."""

    __tablename__ = "seen_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


def first_seen(session: Session, model, event_ids: list[str], now: datetime) -> set[str]:
    """The ids not seen before, now marked seen (one multi-row INSERT; sorted, so two
    processes marking overlapping ids lock them in one order)."""
    rows = [{"event_id": event_id, "seen_at": now} for event_id in sorted(set(event_ids))]
    return insert_new(session, model, rows, returning="event_id")


def forget_old(session: Session, model, now: datetime) -> None:
    session.execute(delete(model).where(model.seen_at < now - SEEN_EVENTS_KEPT))
