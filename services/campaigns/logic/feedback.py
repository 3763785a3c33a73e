"""What messaging's events say about a campaign's messages: each recipient's delivery,
and the stats counters. Only events whose `trigger` names a campaign count. Idempotent
by event id (seen_events), and each counter moves once per recipient: `sent` and
`delivered` when the delivery first gets there, `bounced` once, an open, a click and an
unsubscription once however often they happen."""

from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from plexus.contract import events
from plexus.seen_events import first_seen, forget_old
from services.campaigns.logic import counters
from services.campaigns.models import Recipient, Run, SeenEvent

# How far along a message is; a delivery only moves forward.
RANK = {None: 0, "sent": 1, "delivered": 2, "failed": 3, "bounced": 3}
BOUNCES = ("hard_bounce", "soft_bounce")
FAILURES = ("reject", "fail", "failed", "expired", "undelivered", "suppressed")
# status -> the recipient flag it sets once, and the counter that then moves.
FLAGS = {"open": "opened", "click": "clicked", "unsubscribed": "unsubscribed"}


def campaign_of(payload: dict) -> str | None:
    trigger = payload.get("trigger")
    return trigger.get("campaign_id") if isinstance(trigger, dict) else None


def _delivery(payload: dict) -> str | None:
    if payload.get("event") == events.MESSAGE_SENT:
        return "sent"
    status = payload.get("status")
    if status == "delivered":
        return "delivered"
    if status in BOUNCES:
        return "bounced"
    if status in FAILURES:
        return "failed"
    return None


def apply(recipient: Recipient, payload: dict, tally: Tally) -> None:
    """One event on its recipient; what it moves added to `tally`."""
    variant = recipient.variant
    moved: list[str] = []
    delivery = _delivery(payload)
    if delivery and RANK[delivery] > RANK[recipient.delivery]:
        if recipient.delivery is None and delivery in ("sent", "delivered"):
            moved.append("sent")
        if delivery in ("delivered", "bounced"):
            moved.append(delivery)
        recipient.delivery = delivery
    flag = FLAGS.get(payload.get("status") or "") if delivery is None else None
    if flag and not getattr(recipient, flag):
        setattr(recipient, flag, True)
        moved.append(payload["status"])
    for name in moved:
        tally[name] += 1
        if variant:
            tally[counters.of_variant(variant, name)] += 1


def on_message_events(session: Session, payloads: list[dict], now: datetime) -> int:
    """A batch of messaging's events; how many were about campaigns' recipients."""
    ours = [p for p in payloads if campaign_of(p) and p.get("contact_id") and p.get("event_id")]
    new = first_seen(session, SeenEvent, [p["event_id"] for p in ours], now)
    tallies: dict[str, Tally] = defaultdict(Tally)
    applied = 0
    # The batch's recipients in one query: session.get below finds them loaded.
    pairs = {(campaign_of(p), p["contact_id"]) for p in ours if p["event_id"] in new}
    if pairs:
        session.scalars(
            select(Recipient).where(
                tuple_(Recipient.campaign_id, Recipient.contact_id).in_(sorted(pairs))
            )
        ).all()
    for payload in ours:
        if payload["event_id"] not in new:
            continue
        new.discard(payload["event_id"])  # the same event twice in one batch
        campaign_id = campaign_of(payload)
        recipient = session.get(Recipient, (campaign_id, payload["contact_id"]))
        if recipient is None:  # erased, or not a campaign of ours
            continue
        apply(recipient, payload, tallies[campaign_id])
        applied += 1
    for campaign_id, tally in tallies.items():
        counters.add(session, campaign_id, tally)
    forget_old(session, SeenEvent, now)
    return applied


def forget_contacts(session: Session, contact_ids: list[str]) -> None:
    """contact_deleted: the erased contacts' recipient rows and workflow runs go (the
    counters, which name nobody, stay)."""
    if contact_ids:
        session.execute(delete(Recipient).where(Recipient.contact_id.in_(contact_ids)))
        session.execute(delete(Run).where(Run.contact_id.in_(contact_ids)))
