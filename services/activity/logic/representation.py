"""Feed rows as the API shows them (plexus.contract.activity)."""

from __future__ import annotations

from datetime import UTC, datetime

from plexus.timeutil import rfc3339
from services.activity.models import ActivityItem


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def item_resource(row: ActivityItem) -> dict:
    """From a stored item, or a row of its columns (logic.feed.ITEM_COLUMNS)."""
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "occurred_at": rfc3339(row.occurred_at),
        "channel": row.channel,
        "origin": row.origin,
        "type": row.type,
        "message_id": row.message_id,
        "details": dict(row.details or {}),
    }
