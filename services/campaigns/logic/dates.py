"""Date triggers: `{"date_field": "birthday", "days_before": N}` starts a run for each
contact whose birthday is N days after their local today, once that local day begins.

Campaigns keeps what it needs of each contact (ContactDate: the birthday's "MM-DD" and
the time zone) from contacts' contact_created / contact_updated / contact_deleted
events, so the daily check is one indexed query per time zone in use, with no call to
contacts. A contact starts one run a workflow a local day (seen_events keyed by
workflow, contact and date): a check repeated within the day starts nothing again.
Born on 29 February: in a year without one, the check of 28 February counts it."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plexus.contract import events
from plexus.zones import contact_zone
from services.campaigns.logic.runs import active_workflows, first_time, start_runs
from services.campaigns.models import ContactDate

FIELD = "birthday"
KEY = f"date_field:{FIELD}"


def _month_day(birthday) -> str | None:
    """ "MM-DD" of a "YYYY-MM-DD" birthday; None without a readable one."""
    if not isinstance(birthday, str) or len(birthday) < 10:
        return None
    return birthday[5:10]


def on_contact_events(session: Session, payloads: list[dict]) -> None:
    """The batch's birthdays and time zones kept, in queue order."""
    ids = {p["contact_id"] for p in payloads if p.get("contact_id")}
    if not ids:
        return
    held = {
        row.contact_id: row
        for row in session.scalars(select(ContactDate).where(ContactDate.contact_id.in_(ids)))
    }
    erased: set[str] = set()
    for payload in payloads:
        contact_id, name = payload.get("contact_id"), payload.get("event")
        if not contact_id:
            continue
        if name == events.CONTACT_DELETED:
            erased.add(contact_id)
            if contact_id in held:
                session.delete(held.pop(contact_id))
            continue
        if name == events.CONTACT_CREATED:
            values = payload.get("contact") or {}
        elif name == events.CONTACT_UPDATED:
            values = payload.get("changed") or {}
        else:
            continue
        if FIELD not in values and "timezone" not in values:
            continue
        erased.discard(contact_id)
        row = held.get(contact_id)
        if row is None:
            row = held[contact_id] = ContactDate(contact_id=contact_id)
            session.add(row)
        if FIELD in values:
            row.birthday = _month_day(values[FIELD])
        if "timezone" in values:
            row.timezone = values["timezone"]
    if erased:
        session.execute(delete(ContactDate).where(ContactDate.contact_id.in_(erased)))


def _month_days(day: date) -> list[str]:
    """The birthdays `day` celebrates: 29 February's too on 28 February of a common year."""
    found = [f"{day.month:02d}-{day.day:02d}"]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        found.append("02-29")
    return found


def check_dates(session: Session, now: datetime, default_zone: str) -> int:
    """Runs started for contacts whose date has come in their zone; how many."""
    workflows = active_workflows(session, {KEY})
    if not workflows:
        return 0
    zones = session.scalars(
        select(ContactDate.timezone).where(ContactDate.birthday.is_not(None)).distinct()
    ).all()
    starts, keys = [], []
    for zone_name in zones:
        today = now.astimezone(contact_zone(zone_name, default_zone)).date()
        for workflow in workflows:
            target = today + timedelta(days=int(workflow.trigger.get("days_before") or 0))
            contact_ids = session.scalars(
                select(ContactDate.contact_id).where(
                    ContactDate.birthday.in_(_month_days(target)),
                    ContactDate.timezone.is_(None)
                    if zone_name is None
                    else ContactDate.timezone == zone_name,
                )
            ).all()
            for contact_id in contact_ids:
                keys.append(f"d{workflow.id}{contact_id}{today:%Y%m%d}")
                starts.append((workflow.id, contact_id))
    new = first_time(session, keys, now) if keys else set()
    chosen = [start for key, start in zip(keys, starts, strict=True) if key in new]
    if not chosen:
        return 0
    cause = {"date_field": FIELD}
    return start_runs(
        session,
        [(KEY, contact_id, cause) for _, contact_id in chosen],
        now,
        only={(workflow_id, contact_id) for workflow_id, contact_id in chosen},
    )
