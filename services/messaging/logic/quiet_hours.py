"""Quiet hours: when a contact's local time falls in [start, end) (a window past
midnight when end is before start), a message queued then waits until `end`, local
time, which is given back in UTC."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from plexus.zones import utc_of_wall_clock


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def held_until(now: datetime, quiet: dict | None, zone: tzinfo) -> datetime | None:
    """When a message queued `now` may go, in UTC; None when it need not wait."""
    if not quiet:
        return None
    start, end = _clock(quiet["start"]), _clock(quiet["end"])
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        ends_on = local.date()
    else:  # past midnight: [start, 24:00) and [00:00, end)
        inside = clock >= start or clock < end
        ends_on = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return utc_of_wall_clock(ends_on, end, zone)
