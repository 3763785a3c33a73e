"""Monthly partitions of the feed on PostgreSQL (docs/activity.md): the months around
today are made ahead of time, so rows land in their month rather than in the default
partition. SQLite has one plain table: nothing to do."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

MONTHS_BEFORE, MONTHS_AHEAD = 1, 3


def ensure_partitions(session: Session, first: date, last: date) -> int:
    """Partitions for each month from `first` to `last` (any day in them); how many made."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    return session.scalar(
        text("SELECT activity_ensure_partitions(:first, :last)"), {"first": first, "last": last}
    )


def ensure_coming_months(session: Session, today: date) -> int:
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(MONTHS_BEFORE - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    last = today
    for _ in range(MONTHS_AHEAD):
        last = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    return ensure_partitions(session, first, last)
