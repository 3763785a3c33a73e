"""Which events start which runs: contacts' contact_created (`contact_added`),
activity's activity_recorded items with a custom event's name (`event`), segments'
segment_membership_changed "added" (`segment_entered`). Each becomes (trigger key,
contact_id, cause); runs.start_runs starts a run of every active workflow with that key.
Idempotent by event id (seen_events): a redelivered event starts nothing again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from plexus.contract import events
from services.campaigns.logic.runs import first_time, start_runs

Start = tuple[str, str, dict]


def contact_starts(payload: dict) -> list[Start]:
    if payload.get("event") != events.CONTACT_CREATED or not payload.get("contact_id"):
        return []
    return [("contact_added", payload["contact_id"], {"event_id": payload["event_id"]})]


def activity_starts(payload: dict) -> list[Start]:
    """A custom event's feed item: its item id is the cause's event_id."""
    if payload.get("event") != events.ACTIVITY_RECORDED:
        return []
    return [
        (f"event:{item['name']}", item["contact_id"], {"event_id": item.get("item_id")})
        for item in payload.get("items") or []
        if item.get("name") and item.get("contact_id")
    ]


def segment_starts(payload: dict) -> list[Start]:
    if (
        payload.get("event") != events.SEGMENT_MEMBERSHIP_CHANGED
        or payload.get("change") != "added"
    ):
        return []
    segment_id = payload.get("segment_id")
    return [
        (f"segment_entered:{segment_id}", contact_id, {"segment_id": segment_id})
        for contact_id in payload.get("contact_ids") or []
    ]


READERS = {
    events.CONTACT_CREATED: contact_starts,
    events.ACTIVITY_RECORDED: activity_starts,
    events.SEGMENT_MEMBERSHIP_CHANGED: segment_starts,
}


def on_trigger_events(session: Session, payloads: list[dict], now: datetime) -> int:
    """A batch of any source's events: the runs they start; how many started."""
    ours = [p for p in payloads if p.get("event") in READERS and p.get("event_id")]
    new = first_time(session, [p["event_id"] for p in ours], now) if ours else set()
    starts: list[Start] = []
    for payload in ours:
        if payload["event_id"] in new:
            new.discard(payload["event_id"])
            starts.extend(READERS[payload["event"]](payload))
    return start_runs(session, starts, now) if starts else 0
