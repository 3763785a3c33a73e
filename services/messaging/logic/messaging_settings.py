"""The messaging settings as stored (one row): read with their defaults, replaced as a
whole by PUT."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from plexus.contract.messaging_settings import MessagingSettings
from plexus.parsing import load
from plexus.timeutil import rfc3339, utcnow
from services.messaging.models import SettingsRow

ROW_ID = 1
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Rules:
    """What queueing applies: the caps ({"channel", "max", "per_days"}), the quiet
    hours ({"start", "end"} or None) and the zone of a contact without one."""

    frequency_caps: tuple[dict, ...] = ()
    quiet_hours: dict | None = None
    default_timezone: str = DEFAULT_TIMEZONE


def rules(session: Session) -> Rules:
    row = session.get(SettingsRow, ROW_ID)
    if row is None:
        return Rules()
    return Rules(tuple(row.frequency_caps or ()), row.quiet_hours, row.default_timezone)


def _resource(row: SettingsRow | None) -> dict:
    if row is None:
        return {
            "frequency_caps": [],
            "quiet_hours": None,
            "default_timezone": DEFAULT_TIMEZONE,
            "updated_at": None,
            "updated_by": None,
        }
    return {
        "frequency_caps": [dict(cap) for cap in row.frequency_caps or ()],
        "quiet_hours": dict(row.quiet_hours) if row.quiet_hours else None,
        "default_timezone": row.default_timezone,
        "updated_at": rfc3339(row.updated_at),
        "updated_by": row.updated_by,
    }


def get_settings(session: Session) -> dict:
    return _resource(session.get(SettingsRow, ROW_ID))


def put_settings(session: Session, data, actor: str) -> dict:
    """Replace the settings; what a body leaves out takes its default. `actor` is kept
    as `updated_by`."""
    fields = load(MessagingSettings(), data)
    row = session.get(SettingsRow, ROW_ID, with_for_update=True)
    if row is None:
        row = SettingsRow(id=ROW_ID)
        session.add(row)
    row.frequency_caps = fields["frequency_caps"]
    row.quiet_hours = fields["quiet_hours"]
    row.default_timezone = fields["default_timezone"]
    row.updated_at = utcnow()
    row.updated_by = str(actor)[:200]
    session.flush()
    return _resource(row)
