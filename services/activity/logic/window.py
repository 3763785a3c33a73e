"""The time window of a query: `period` (7d, 14d, 30d back from now) or since/until."""

from __future__ import annotations

from datetime import datetime, timedelta

from plexus.contract.activity import PERIODS


def window(
    now: datetime,
    period: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[datetime | None, datetime | None]:
    if period:
        return now - timedelta(days=PERIODS[period]), None
    return since, until
