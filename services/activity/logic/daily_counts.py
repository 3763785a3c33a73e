"""The feed counted per contact, UTC day, channel, type, name and origin, a page of
contacts at a time (in id order): what `plexus segments rebuild` loads into the
segments service's projection."""

from __future__ import annotations

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from plexus.paging import envelope
from services.activity.models import ActivityItem as Item


def _utc_day(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", Item.occurred_at), Date)
    return func.date(Item.occurred_at)  # SQLite keeps UTC text


def daily_counts(session: Session, cursor: str | None, size: int) -> dict:
    """Counts for the next `size` contacts after `cursor` (a contact id)."""
    contacts = select(Item.contact_id).distinct().order_by(Item.contact_id).limit(size)
    if cursor:
        contacts = contacts.where(Item.contact_id > cursor)
    ids = list(session.scalars(contacts))
    if not ids:
        return envelope([], None)
    day = _utc_day(session).label("day")
    rows = session.execute(
        select(Item.contact_id, day, Item.channel, Item.type, Item.name, Item.origin, func.count())
        .where(Item.contact_id.in_(ids))
        .group_by(Item.contact_id, day, Item.channel, Item.type, Item.name, Item.origin)
    )
    data = [
        {
            "contact_id": contact_id,
            "day": str(on),
            "channel": channel,
            "type": kind,
            "name": name,
            "origin": origin,
            "count": count,
        }
        for contact_id, on, channel, kind, name, origin, count in rows
    ]
    return envelope(data, ids[-1] if len(ids) == size else None)
