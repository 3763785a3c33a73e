"""Counts of one contact's items by channel and type over a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plexus.keys import require_key
from plexus.timeutil import rfc3339
from services.activity.logic.feed import known_contact
from services.activity.logic.window import window
from services.activity.models import ActivityItem as Item


def summary(
    session: Session, contact_id: str, *, period: str | None, since: datetime, until: datetime
) -> dict:
    require_key(contact_id, "contact")
    counted = session.execute(
        select(Item.channel, Item.type, func.count())
        .where(Item.contact_id == contact_id, Item.occurred_at >= since, Item.occurred_at < until)
        .group_by(Item.channel, Item.type)
        .order_by(Item.channel, Item.type)
    ).all()
    if not counted:
        known_contact(session, contact_id)
    channels: dict[str, dict] = {}
    for channel, kind, count in counted:
        entry = channels.setdefault(channel, {"total": 0, "types": {}})
        entry["types"][kind] = count
        entry["total"] += count
    return {
        "contact_id": contact_id,
        "period": period,
        "since": rfc3339(since),
        "until": rfc3339(until),
        "total": sum(c["total"] for c in channels.values()),
        "channels": channels,
    }


def summary_in_period(session: Session, contact_id: str, now: datetime, period: str | None) -> dict:
    """The counts over a named period back from `now`."""
    since, _ = window(now, period)
    return summary(session, contact_id, period=period, since=since, until=now)
