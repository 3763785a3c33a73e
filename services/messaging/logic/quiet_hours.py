"""Quiet hours: when a contact's local time falls in [start, end) (a window past
midnight when end is before start), a message queued then waits until `end`, local
time, which is given back in UTC."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from plexus.contract.fields import UTC_OFFSET


def zone_of(name: str | None, default: str) -> tzinfo:
    """The contact's zone: an IANA name or a UTC offset `+HH:MM` (as contacts store
    `timezone`), else the default (an IANA name)."""
    if name:
        match = UTC_OFFSET.match(name)
        if match:
            sign, hours, minutes = match.groups()
            offset = timedelta(hours=int(hours), minutes=int(minutes))
            return timezone(-offset if sign == "-" else offset)
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo(default)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, moment: time, zone: tzinfo) -> datetime:
    """That local time of that day in UTC. In a daylight-saving gap the clock skips
    (02:30 does not exist): the moment is read with the offset before the gap, which
    lands past it."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


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
    return _at(ends_on, end, zone)
