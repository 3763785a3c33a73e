"""Storing feed rows: once per source event (the broker delivers at least once), never
for an erased contact, and announced through the outbox, one activity_recorded event
listing the rows of a transaction. `record`
stores one (what external systems post); `record_many` a consumer's batch of events with
a few set-based statements whatever its size."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from plexus.bulk import insert_new
from plexus.contract import events, vocab
from plexus.ids import new_id
from plexus.outbox import record_event
from plexus.timeutil import rfc3339, utcnow
from services.activity.models import ActivityItem, ErasedContact, Outbox


def is_erased(session: Session, contact_id: str) -> bool:
    return session.get(ErasedContact, contact_id) is not None


def _already_recorded(session: Session, source_event_id: str, occurred_at: datetime) -> bool:
    return (
        session.scalar(
            select(ActivityItem.id).where(
                ActivityItem.source_event_id == source_event_id,
                ActivityItem.occurred_at == occurred_at,
            )
        )
        is not None
    )


def check_kind(channel: str, kind: str) -> None:
    """A row outside the vocabulary is a bug of the sender: refused loudly (the consumer
    retries, then parks the event on its dead-letter queue for a person to see)."""
    if kind not in vocab.ACTIVITY_TYPES.get(channel, ()):
        raise ValueError(f"{channel}/{kind} is not an activity type (plexus.contract.vocab)")


def record(
    session: Session,
    *,
    contact_id: str,
    occurred_at: datetime,
    channel: str,
    type: str,
    origin: str | None = None,
    name: str | None = None,
    message_id: str | None = None,
    details: dict | None = None,
    source_event_id: str | None = None,
) -> ActivityItem | None:
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
        id=source_event_id or new_id(),
        contact_id=contact_id,
        occurred_at=occurred_at,
        channel=channel,
        origin=origin if origin in vocab.ORIGINS else None,
        type=type,
        name=name,
        message_id=message_id,
        details=details or {},
        source_event_id=source_event_id,
        recorded_at=utcnow(),
    )
    try:
        # Two workers may take two deliveries of one event at once: the unique key
        # settles it, and the savepoint keeps the transaction usable for the loser.
        with session.begin_nested():
            session.add(row)
    except exc.IntegrityError:
        return None
    record_event(
        session,
        Outbox,
        events.ACTIVITY_RECORDED,
        {
            "items": [
                _recorded(
                    row.id,
                    {
                        "contact_id": contact_id,
                        "channel": channel,
                        "type": type,
                        "origin": row.origin,
                        "name": name,
                        "occurred_at": occurred_at,
                    },
                )
            ]
        },
    )
    return row


def _recorded(item_id: str, row: dict) -> dict:
    """A stored row as an item of activity_recorded."""
    return {
        "item_id": item_id,
        "contact_id": row["contact_id"],
        "channel": row["channel"],
        "type": row["type"],
        "origin": row["origin"],
        "name": row["name"],
        "occurred_at": rfc3339(row["occurred_at"]),
    }


def record_many(session: Session, rows: list[dict]) -> list[str | None]:
    """Many feed rows, each a dict of record()'s keyword arguments: a consumer's batch of
    events (each with its source_event_id) or a batch of posted events (none). For each,
    its stored id, or None when its contact is erased or its event was stored before.
    The rows go in one multi-row INSERT, announced by one activity_recorded event."""
    for row in rows:
        check_kind(row["channel"], row["type"])
    contact_ids = {row["contact_id"] for row in rows}
    erased = (
        set(
            session.scalars(
                select(ErasedContact.contact_id).where(ErasedContact.contact_id.in_(contact_ids))
            )
        )
        if contact_ids
        else set()
    )
    now = utcnow()
    ids: list[str | None] = []
    new: dict[str, dict] = {}
    taken: set[str] = set()  # source events already given a row in this batch
    for row in rows:
        event_id = row.get("source_event_id")
        if row["contact_id"] in erased or event_id in taken:
            ids.append(None)
            continue
        if event_id:
            taken.add(event_id)
        origin = row.get("origin")
        # An item made from an event takes the event's id, as in record(); the items of
        # an event naming many contacts (a segment's changes) ids of their own.
        item_id = row.get("id") or event_id or new_id()
        new[item_id] = {
            "id": item_id,
            "contact_id": row["contact_id"],
            "occurred_at": row["occurred_at"],
            "channel": row["channel"],
            "origin": origin if origin in vocab.ORIGINS else None,
            "type": row["type"],
            "name": row.get("name"),
            "message_id": row.get("message_id"),
            "details": row.get("details") or {},
            "trigger": row.get("trigger"),
            "source_event_id": event_id,
            "recorded_at": now,
        }
        ids.append(item_id)
    if not new:
        return ids
    # An event stored before (a redelivery), or by another process at the same moment,
    # is skipped by its unique key: no look-up first.
    inserted = insert_new(session, ActivityItem, list(new.values()), returning="id")
    if inserted:
        record_event(
            session,
            Outbox,
            events.ACTIVITY_RECORDED,
            {
                "items": [
                    _recorded(item_id, row) for item_id, row in new.items() if item_id in inserted
                ]
            },
        )
    return [item_id if item_id in inserted else None for item_id in ids]
