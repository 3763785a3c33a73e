"""The messaging settings applied when messages are queued, in the transaction that
stores them (so the counts include what that transaction adds): to a campaign, A/B
test or workflow message only, never a transactional one.

- A frequency cap refuses a message (`frequency_cap`) to a contact who already has `max`
  such messages (on the cap's channel, or any) queued in the last `per_days` days,
  counting the ones before it in the same batch.
- Quiet hours hold a message that is queued in them until they end (`held_until`); the
  release timer (logic/holds.py) hands it to its sender then.

Two transactions counting one contact's messages at once could both stay under a cap;
so they queue for the contacts first: PostgreSQL advisory locks, taken in one order,
held to the commit; on SQLite the process's single writer (plexus.sqlite_writer), taken
by a first write before the counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from plexus.contract.messaging_settings import LIMITED_ORIGINS
from plexus.contract.vocab import FREQUENCY_CAP
from plexus.timeutil import utcnow
from plexus.zones import contact_zone
from services.messaging.logic.messaging_settings import rules
from services.messaging.logic.queueing import NewMessage
from services.messaging.logic.quiet_hours import held_until
from services.messaging.models import Message


@dataclass(frozen=True)
class Verdict:
    refused: str | None = None  # FREQUENCY_CAP
    cap: dict | None = None  # the cap that refused it
    held_until: datetime | None = None

    def detail(self) -> str:
        cap = self.cap or {}
        on = f" on {cap['channel']}" if cap.get("channel") else ""
        return (
            f"the contact reached a frequency cap ({FREQUENCY_CAP}): {cap.get('max')} "
            f"campaign, A/B test or workflow messages{on} in {cap.get('per_days')} days"
        )


def _queue_for(session: Session, contact_ids: list[str]) -> None:
    """Wait for any other transaction counting these contacts, until our commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT "
                "hashtextextended(id, 7411) AS k FROM unnest(CAST(:ids AS text[])) AS id "
                "ORDER BY k) AS keys"
            ),
            {"ids": contact_ids},
        )
    else:  # a first write takes the process's writer lock, held to the commit
        session.execute(text("UPDATE settings SET id = id WHERE 0"))


def _counted(session: Session, cap: dict, contact_ids: list[str], now: datetime) -> Counter:
    """Each contact's messages that this cap counts, queued in its window."""
    query = (
        select(Message.contact_id, func.count())
        .where(
            Message.contact_id.in_(contact_ids),
            Message.origin.in_(LIMITED_ORIGINS),
            Message.created_at >= now - timedelta(days=cap["per_days"]),
        )
        .group_by(Message.contact_id)
    )
    if cap.get("channel"):
        query = query.where(Message.channel == cap["channel"])
    return Counter(dict(session.execute(query).all()))


def admit(
    session: Session, candidates: list[tuple[NewMessage, dict]], now: datetime | None = None
) -> list[Verdict]:
    """A verdict for each (message, its contact's resource), in order."""
    verdicts = [Verdict()] * len(candidates)
    limited = [n for n, (m, _) in enumerate(candidates) if m.origin in LIMITED_ORIGINS]
    if not limited:
        return verdicts
    settings = rules(session)
    if not settings.frequency_caps and not settings.quiet_hours:
        return verdicts
    now = now or utcnow()
    caps = settings.frequency_caps
    counts: list[Counter] = []
    if caps:
        contact_ids = sorted({candidates[n][0].contact_id for n in limited})
        _queue_for(session, contact_ids)
        counts = [_counted(session, cap, contact_ids, now) for cap in caps]
    for n in limited:
        message, contact = candidates[n]
        who = message.contact_id
        mine = [k for k, cap in enumerate(caps) if cap.get("channel") in (None, message.channel)]
        full = next((k for k in mine if counts[k][who] >= caps[k]["max"]), None)
        if full is not None:
            verdicts[n] = Verdict(refused=FREQUENCY_CAP, cap=caps[full])
            continue
        for k in mine:
            counts[k][who] += 1
        zone = contact_zone(contact.get("timezone"), settings.default_timezone)
        verdicts[n] = Verdict(held_until=held_until(now, settings.quiet_hours, zone))
    return verdicts
