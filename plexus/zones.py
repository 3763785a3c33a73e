"""Contacts' time zones, as contacts store `timezone`: an IANA name (daylight saving
applies) or a fixed UTC offset `+HH:MM`; and wall-clock times in them."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

from plexus.contract.fields import UTC_OFFSET


@lru_cache(maxsize=1024)
def contact_zone(name: str | None, default: str = "UTC") -> tzinfo:
    """The zone a contact's `timezone` names; `default` (an IANA name) when it names
    none we know, and UTC when neither does."""
    for candidate in (name, default):
        if not candidate:
            continue
        match = UTC_OFFSET.match(candidate)
        if match:
            sign, hours, minutes = match.groups()
            offset = timedelta(hours=int(hours), minutes=int(minutes))
            return timezone(-offset if sign == "-" else offset)
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return UTC


def utc_of_wall_clock(day: date, at: time, zone: tzinfo) -> datetime:
    """The UTC moment the wall clock in `zone` reads `at` on `day`. fold=0 (PEP 495)
    reads a time that happens twice (clocks put back) as its first occurrence, and one
    in a gap (clocks put forward over it) with the offset before the jump: the same
    wall-clock distance after it (02:30 in a 02:00->03:00 gap is 03:30)."""
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)
