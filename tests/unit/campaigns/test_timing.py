"""When a member's message is due with schedule.local_time: the first moment at or after
the campaign's that reads that time on the member's wall clock, across zones and DST."""

from datetime import UTC, datetime, timedelta

import pytest

from plexus.zones import contact_zone as zone
from services.campaigns.logic.timing import due_at, local_due


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("base", "local_time", "tz", "expected"),
    [
        # Kyiv is UTC+2 in winter: 09:00 there is 07:00 UTC, still ahead that day.
        (utc(2026, 11, 30, 6, 0), "09:00", "Europe/Kyiv", utc(2026, 11, 30, 7, 0)),
        # Already past in Kyiv: the next day.
        (utc(2026, 11, 30, 8, 0), "09:00", "Europe/Kyiv", utc(2026, 12, 1, 7, 0)),
        # New York is UTC-5: its 09:00 is 14:00 UTC the same date.
        (utc(2026, 11, 30, 8, 0), "09:00", "America/New_York", utc(2026, 11, 30, 14, 0)),
        # Tokyo (UTC+9) is on the next date already: 09:00 there is tomorrow 00:00 UTC.
        (utc(2026, 11, 30, 8, 0), "09:00", "Asia/Tokyo", utc(2026, 12, 1, 0, 0)),
        # Exactly the moment: due then, not a day later.
        (utc(2026, 11, 30, 7, 0), "09:00", "Europe/Kyiv", utc(2026, 11, 30, 7, 0)),
        # Fixed offsets as contacts store them.
        (utc(2026, 11, 30, 0, 0), "09:30", "+05:30", utc(2026, 11, 30, 4, 0)),
        (utc(2026, 11, 30, 0, 0), "09:30", "-03:00", utc(2026, 11, 30, 12, 30)),
    ],
)
def test_the_first_such_moment_after_the_base(base, local_time, tz, expected):
    assert local_due(base, local_time, zone(tz)) == expected


def test_summer_time_moves_the_utc_moment():
    # Berlin: UTC+1 in winter, UTC+2 in summer.
    winter = local_due(utc(2026, 1, 10, 0, 0), "10:00", zone("Europe/Berlin"))
    summer = local_due(utc(2026, 7, 10, 0, 0), "10:00", zone("Europe/Berlin"))
    assert (winter.hour, summer.hour) == (9, 8)


def test_a_time_in_the_spring_gap_is_the_same_distance_after_the_jump():
    # 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
    due = local_due(utc(2026, 3, 29, 0, 0), "02:30", zone("Europe/Berlin"))
    assert due == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert due.astimezone(zone("Europe/Berlin")).strftime("%H:%M") == "03:30"


def test_a_time_that_happens_twice_in_autumn_is_its_first():
    # 2026-10-25 in Berlin: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    due = local_due(utc(2026, 10, 24, 22, 0), "02:30", zone("Europe/Berlin"))
    assert due == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])
def test_always_within_a_day_of_the_base_across_a_year(tz):
    base = utc(2026, 1, 1, 0, 17)
    for hour in range(0, 24 * 365, 7):
        moment = base + timedelta(hours=hour)
        due = local_due(moment, "02:30", zone(tz))
        assert moment <= due <= moment + timedelta(hours=25)


def test_no_local_time_is_the_base_and_an_unknown_zone_the_default():
    base = utc(2026, 11, 30, 6, 0)
    assert due_at(base, None, "Europe/Kyiv", "UTC") == base
    assert due_at(base, "09:00", None, "Europe/Kyiv") == utc(2026, 11, 30, 7, 0)
    assert due_at(base, "09:00", "Mars/Olympus", "UTC") == utc(2026, 11, 30, 9, 0)
