"""Storing one feed row: once per source event (the broker delivers at least once), never
for an erased contact, and announced as activity_recorded through the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.ids import new_id
from plexus.outbox import record_event
from plexus.timeutil import rfc3339, utcnow
from services.activity.models import ActivityItem, ErasedContact, Outbox


def is_erased(session: Session, contact_id: str) -> bool:
    return session.get(ErasedContact, contact_id) is not None


def _already_recorded(session: Session, source_event_id: str, occurred_at: datetime) -> bool:
    return session.scalar(select(ActivityItem.id).where(
        ActivityItem.source_event_id == source_event_id,
        ActivityItem.occurred_at == occurred_at)) is not None


def check_kind(channel: str, kind: str) -> None:
    """A row outside the vocabulary is a bug of the sender: refused loudly (the consumer
    retries, then parks the event on its dead-letter queue for a person to see)."""
    if kind not in vocab.ACTIVITY_TYPES.get(channel, ()):
        raise ValueError(f"{channel}/{kind} is not an activity type (plexus.contract.vocab)")


def record(session: Session, *, contact_id: str, occurred_at: datetime, channel: str,
           type: str, origin: str | None = None, name: str | None = None,
           message_id: str | None = None, details: dict | None = None,
           source_event_id: str | None = None) -> ActivityItem | None:
    """The stored row, or None when it was recorded before or the contact was erased."""
    check_kind(channel, type)
    if is_erased(session, contact_id):
        return None
    if source_event_id and _already_recorded(session, source_event_id, occurred_at):
        return None
    row = ActivityItem(
        # An item made from an event takes the event's id: ids of one service's events
        # sort in the order they were recorded (plexus.ids), so items of the same moment
        # (a contact added and its address subscribed, in one transaction) keep that order
        # in the feed, whatever order the consumer's workers stored them in.
        id=source_event_id or new_id(), contact_id=contact_id, occurred_at=occurred_at,
        channel=channel,
        origin=origin if origin in vocab.ORIGINS else None, type=type, name=name,
        message_id=message_id, details=details or {}, source_event_id=source_event_id,
        recorded_at=utcnow())
    try:
        # Two workers may take two deliveries of one event at once: the unique key
        # settles it, and the savepoint keeps the transaction usable for the loser.
        with session.begin_nested():
            session.add(row)
    except exc.IntegrityError:
        return None
    record_event(session, Outbox, events.ACTIVITY_RECORDED, {
        "item_id": row.id, "contact_id": contact_id, "channel": channel, "type": type,
        "origin": row.origin, "name": name, "occurred_at": rfc3339(occurred_at)})
    return row
