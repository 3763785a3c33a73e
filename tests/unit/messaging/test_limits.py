"""The messaging settings and what queueing does with them: frequency caps counted per
contact (earlier messages of the same batch too), quiet hours across midnight and time
zones, held messages released once by the timer's pass, and never to a transactional
message."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from plexus.errors import Conflict, Invalid
from plexus.zones import contact_zone
from services.messaging.logic import claims, holds, messages, messaging_settings, templates
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.quiet_hours import held_until
from services.messaging.logic.sending import send_message
from services.messaging.models import DeliveryOutbox, Message
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

ANN = make_contact()
KYIV = make_contact(id="01contact0000000000000000k", timezone="Europe/Kyiv", email="k@x.example")
NY = make_contact(id="01contact0000000000000000y", timezone="-05:00", email="y@x.example")
QUIET = {"start": "21:00", "end": "09:00"}


def put_settings(session, body):
    return messaging_settings.put_settings(session, body, "admin-key")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------- quiet hours arithmetic


@pytest.mark.parametrize(
    ("now", "zone", "quiet", "expected"),
    [
        # Across midnight, in UTC: before, inside on both sides of midnight, at the end.
        ("2026-11-30T20:59:00+00:00", "UTC", QUIET, None),
        ("2026-11-30T21:00:00+00:00", "UTC", QUIET, "2026-12-01T09:00:00+00:00"),
        ("2026-12-01T03:00:00+00:00", "UTC", QUIET, "2026-12-01T09:00:00+00:00"),
        ("2026-12-01T09:00:00+00:00", "UTC", QUIET, None),
        # A window within one day.
        (
            "2026-11-30T13:30:00+00:00",
            "UTC",
            {"start": "13:00", "end": "14:00"},
            "2026-11-30T14:00:00+00:00",
        ),
        ("2026-11-30T14:00:00+00:00", "UTC", {"start": "13:00", "end": "14:00"}, None),
        # Kyiv is UTC+2 in winter: 19:30 UTC is 21:30 there, held to 09:00 Kyiv = 07:00 UTC.
        ("2026-11-30T19:30:00+00:00", "Europe/Kyiv", QUIET, "2026-12-01T07:00:00+00:00"),
        ("2026-11-30T18:59:00+00:00", "Europe/Kyiv", QUIET, None),
        # Summer time: UTC+3.
        ("2026-07-01T18:30:00+00:00", "Europe/Kyiv", QUIET, "2026-07-02T06:00:00+00:00"),
        # A UTC offset as contacts store it: 03:00 UTC is 22:00 the day before at -05:00.
        ("2026-12-01T03:00:00+00:00", "-05:00", QUIET, "2026-12-01T14:00:00+00:00"),
        # The night the clocks go forward (Kyiv, 2026-03-29 03:00 -> 04:00), window ends in the gap.
        (
            "2026-03-28T23:30:00+00:00",
            "Europe/Kyiv",
            {"start": "01:00", "end": "03:30"},
            "2026-03-29T01:30:00+00:00",
        ),
    ],
)
def test_quiet_hours_hold_until_their_end_in_the_contacts_zone(now, zone, quiet, expected):
    found = held_until(at(now), quiet, contact_zone(zone, "UTC"))
    assert found == (at(expected) if expected else None)


def test_a_contact_without_a_usable_zone_takes_the_default():
    assert contact_zone(None, "Europe/Kyiv").key == "Europe/Kyiv"
    assert contact_zone("Mars/Olympus", "UTC").key == "UTC"
    assert held_until(at("2026-11-30T12:00:00+00:00"), None, contact_zone(None, "UTC")) is None


# ---------------------------------------------------------------- the settings


def test_settings_have_defaults_and_are_replaced_as_a_whole(run):
    assert run(messaging_settings.get_settings) == {
        "frequency_caps": [],
        "quiet_hours": None,
        "default_timezone": "UTC",
        "updated_at": None,
        "updated_by": None,
    }
    stored = run(
        put_settings,
        {
            "frequency_caps": [{"channel": "email", "max": 2, "per_days": 7}],
            "quiet_hours": QUIET,
            "default_timezone": "europe/kyiv",
        },
    )
    assert stored["frequency_caps"] == [{"channel": "email", "max": 2, "per_days": 7}]
    assert stored["default_timezone"] == "Europe/Kyiv" and stored["updated_at"]
    assert stored["updated_by"] == "admin-key"
    assert run(messaging_settings.get_settings) == stored
    again = run(put_settings, {"quiet_hours": None})
    assert again["frequency_caps"] == [] and again["default_timezone"] == "UTC"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"frequency_caps": [{"max": 0, "per_days": 1}]}, "frequency_caps.0.max"),
        ({"frequency_caps": [{"max": 1, "per_days": 366}]}, "frequency_caps.0.per_days"),
        ({"frequency_caps": [{"max": "1", "per_days": 1}]}, "frequency_caps.0.max"),
        (
            {"frequency_caps": [{"channel": "fax", "max": 1, "per_days": 1}]},
            "frequency_caps.0.channel",
        ),
        ({"frequency_caps": [{"max": 1}]}, "frequency_caps.0.per_days"),
        ({"quiet_hours": {"start": "24:00", "end": "09:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "9:00", "end": "09:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "09:00", "end": "09:00"}}, "quiet_hours.end"),
        ({"default_timezone": "+02:00"}, "default_timezone"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
        ({"caps": []}, "caps"),
    ],
)
def test_bad_settings_are_422_naming_the_field(run, body, path):
    with pytest.raises(Invalid) as caught:
        run(put_settings, body)
    assert path in caught.value.errors, caught.value.errors


# ---------------------------------------------------------------- applied when queueing


@pytest.fixture
def contacts():
    return FakeContacts(ANN, KYIV, NY)


@pytest.fixture
def sms(run):
    return run(templates.create_template, {"name": "t", "channel": "sms", "body": "Hi"}, "tester")


def batch(template, contacts_, origin="campaign", campaign="c1", channel="sms"):
    return [
        {
            "key": f"{campaign}:{c['id']}:{n}",
            "contact_id": c["id"],
            "channel": channel,
            "template_id": template["id"],
            "origin": origin,
        }
        for n, c in enumerate(contacts_)
    ]


def sms_to_ann(unit_of_work, contacts, **more):
    body = {"contact": {"id": ANN["id"]}, "channel": "sms", "content": {"body": "x"}, **more}
    return send_message(unit_of_work, contacts, SETTINGS, body, "api")


def test_a_cap_counts_earlier_messages_and_the_batchs_own(unit_of_work, contacts, sms, run):
    run(
        put_settings,
        {"frequency_caps": [{"channel": "sms", "max": 2, "per_days": 7}]},
    )
    first = queue_batch(unit_of_work, contacts, SETTINGS, batch(sms, [ANN]), "c")
    assert first[0]["status"] == "queued"
    # Ann had one; the batch brings three more: the first fits, the others are refused.
    answers = queue_batch(
        unit_of_work, contacts, SETTINGS, batch(sms, [ANN, KYIV, ANN, ANN], campaign="c2"), "c"
    )
    assert [(a["contact_id"][-1], a["status"], a["reason"]) for a in answers] == [
        ("0", "queued", None),
        ("k", "queued", None),
        ("0", "refused", "frequency_cap"),
        ("0", "refused", "frequency_cap"),
    ]
    # Transactional messages neither count nor are refused.
    assert all(
        a["status"] == "queued"
        for a in queue_batch(
            unit_of_work,
            contacts,
            SETTINGS,
            batch(sms, [ANN] * 3, origin="transaction", campaign="t"),
            "c",
        )
    )
    with pytest.raises(Conflict) as caught:
        sms_to_ann(unit_of_work, contacts, origin="workflow")
    assert "frequency_cap" in caught.value.detail and "contact" in caught.value.errors


def test_a_cap_without_a_channel_counts_every_channel_and_only_its_window(
    unit_of_work, contacts, sms, run, sessions
):
    from plexus.db import transaction

    run(put_settings, {"frequency_caps": [{"max": 1, "per_days": 2}]})
    email = run(
        templates.create_template,
        {"name": "e", "channel": "email", "subject": "S", "body": "B"},
        "tester",
    )
    assert (
        queue_batch(unit_of_work, contacts, SETTINGS, batch(email, [ANN], channel="email"), "c")[0][
            "reason"
        ]
        is None
    )
    assert (
        queue_batch(unit_of_work, contacts, SETTINGS, batch(sms, [ANN], campaign="c2"), "c")[0][
            "reason"
        ]
        == "frequency_cap"
    )
    with transaction(sessions) as session:  # the email was sent three days ago
        session.execute(update(Message).values(created_at=datetime.now(UTC) - timedelta(days=3)))
    assert (
        queue_batch(unit_of_work, contacts, SETTINGS, batch(sms, [ANN], campaign="c3"), "c")[0][
            "reason"
        ]
        is None
    )


def test_quiet_hours_hold_a_message_which_the_timer_releases_once(
    unit_of_work, contacts, sms, run, recorded, sessions
):
    from plexus.db import transaction

    now = datetime.now(UTC)
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    run(put_settings, {"quiet_hours": {"start": start, "end": end}})
    (held,) = queue_batch(unit_of_work, contacts, SETTINGS, batch(sms, [ANN]), "c")
    direct = sms_to_ann(unit_of_work, contacts, origin="campaign")
    receipt = sms_to_ann(unit_of_work, contacts)
    assert held["status"] == "queued" and held["held_until"]
    history = run(messages.get_message, held["message_id"])["history"]
    assert history[0]["details"]["held_until"] == held["held_until"]
    # Only the transactional message went to its sender; the held ones cannot be claimed.
    assert [body["message_id"] for _, body in recorded(DeliveryOutbox)] == [receipt["id"]]
    assert claims.claim(unit_of_work, contacts, SETTINGS, held["message_id"]) == {"send": False}
    # Asked again, the key answers the same hold.
    assert queue_batch(unit_of_work, contacts, SETTINGS, batch(sms, [ANN]), "c") == [held]
    assert run(holds.release_due) == 0  # not yet
    with transaction(sessions) as session:  # the hold ends
        session.execute(
            update(Message)
            .values(held_until=datetime.now(UTC) - timedelta(seconds=1))
            .where(Message.held_until.is_not(None))
        )
    assert run(holds.release_due) == 2
    assert run(holds.release_due) == 0
    assert sorted(body["message_id"] for _, body in recorded(DeliveryOutbox)) == sorted(
        [receipt["id"], held["message_id"], direct["id"]]
    )
    assert claims.claim(unit_of_work, contacts, SETTINGS, held["message_id"])["send"] is True
