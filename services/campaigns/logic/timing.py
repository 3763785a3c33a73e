"""When a member's message is due: at the campaign's moment, or with schedule.local_time
at that time of day in the member's own time zone, the first such moment at or after
the campaign's moment (so within its 24 hours).

Time zones are IANA names (DST applies) or fixed offsets `+HH:MM`. A local time that
does not exist that day (clocks put forward over it) is taken as the same wall-clock
time after the jump (02:30 in a 02:00->03:00 gap is 03:30 local); one that happens
twice (clocks put back) is its first occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from plexus.zones import contact_zone, utc_of_wall_clock


def local_due(base: datetime, local_time: str, tz: tzinfo) -> datetime:
    """The first moment at or after `base` when the wall clock in `tz` reads `local_time`
    (HH:MM): within 24 hours of `base` (25 across a DST change)."""
    hours, minutes = (int(part) for part in local_time.split(":"))
    at = time(hours, minutes)
    today = base.astimezone(tz).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        moment = utc_of_wall_clock(day, at, tz)
        if moment >= base:
            return moment
    return utc_of_wall_clock(today + timedelta(days=2), at, tz)  # pragma: no cover


def due_at(base: datetime, local_time: str | None, timezone_name: str | None, default: str):
    if not local_time:
        return base
    return local_due(base, local_time, contact_zone(timezone_name, default))


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
