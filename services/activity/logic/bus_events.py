"""Events of other services as feed rows (plexus.contract.events has their payloads).

Each payload is mapped by its `event` name; the row keeps its `event_id` so that a
redelivery is recognised, and its `occurred_at` as the time of the item. Details hold
what the feed needs to say what happened, never the contact's personal values:
contact_updated keeps the names of the changed fields, not their new values."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from plexus.contract import events
from plexus.contract.activity import parse_rfc3339
from plexus.ids import new_id
from services.activity.logic.erasure import erase_contact
from services.activity.logic.recording import record_many

log = logging.getLogger(__name__)

CONTACT_TYPES = {
    events.CONTACT_CREATED: "added",
    events.CONTACT_UPDATED: "updated",
    events.CONTACT_ACTIVATED: "activated",
    events.CONTACT_DEACTIVATED: "deactivated",
}
SEGMENT_TYPES = {"added": "added_to_segment", "dropped": "dropped_from_segment"}


def _contact_row(payload: dict) -> dict:
    name = payload["event"]
    details = {"actor": payload.get("actor")}
    if name == events.CONTACT_UPDATED:
        details["changed"] = sorted(payload.get("changed") or {})
    if name == events.BLACKLIST_CHANGED:
        kind = "blacklisted" if payload.get("blacklisted") else "unblacklisted"
        return {
            "channel": "contact",
            "type": kind,
            "details": {**details, "list": payload.get("list"), "reason": payload.get("reason")},
        }
    if name == events.SUBSCRIPTION_CHANGED:
        return {
            "channel": payload["channel"],
            "type": payload["status"],
            "details": {
                **details,
                "previous": payload.get("previous"),
                "reason": payload.get("reason"),
            },
        }
    return {"channel": "contact", "type": CONTACT_TYPES[name], "details": details}


def _message_row(payload: dict) -> dict:
    row = {
        "channel": payload["channel"],
        "origin": payload.get("origin"),
        "message_id": payload.get("message_id"),
        "trigger": payload.get("trigger"),
    }
    if payload["event"] == events.MESSAGE_SENT:
        return {**row, "type": "sent", "details": {"provider_id": payload.get("provider_id")}}
    return {**row, "type": payload["status"], "details": dict(payload.get("details") or {})}


def _segment_rows(payload: dict) -> list[dict]:
    """A row for each contact a segment event moved. Each has an id of its own, and its
    own key of the event (event_id:contact_id) that a redelivery is known by."""
    occurred_at = parse_rfc3339(payload["occurred_at"])
    return [
        {
            "id": new_id(),
            "contact_id": contact_id,
            "occurred_at": occurred_at,
            "source_event_id": f"{payload['event_id']}:{contact_id}",
            "channel": "contact",
            "type": SEGMENT_TYPES[payload["change"]],
            "details": {
                "segment_id": payload.get("segment_id"),
                "segment_name": payload.get("segment_name"),
            },
        }
        for contact_id in payload.get("contact_ids") or ()
    ]


def _row(payload: dict, row: dict) -> dict:
    return {
        "contact_id": payload["contact_id"],
        "occurred_at": parse_rfc3339(payload["occurred_at"]),
        "source_event_id": payload["event_id"],
        **row,
    }


def _contact_rows(payload: dict) -> list[dict]:
    """The event's row, then one for each subscription it lists (a new contact's, or a
    new address's), each with that subscription's own event_id: as if it had come as a
    subscription_changed of its own."""
    rows = [_row(payload, _contact_row(payload))]
    for entry in payload.get("subscribed") or ():
        rows.append(
            _row(
                {**payload, **entry, "event": events.SUBSCRIPTION_CHANGED},
                _contact_row({**payload, **entry, "event": events.SUBSCRIPTION_CHANGED}),
            )
        )
    return rows


def _stored(session: Session, rows: list[dict]) -> int:
    return sum(item_id is not None for item_id in record_many(session, rows))


def on_contact_events(session: Session, payloads: list[dict]) -> int:
    """A batch of contacts' events; feed rows stored. An erasure in the batch goes first:
    a contact is never created again once erased, so nothing of it in this batch, before
    or after its contact_deleted, may stay."""
    for contact_id in dict.fromkeys(
        p["contact_id"] for p in payloads if p["event"] == events.CONTACT_DELETED
    ):
        erase_contact(session, contact_id)
    return _stored(
        session,
        [row for p in payloads if p["event"] != events.CONTACT_DELETED for row in _contact_rows(p)],
    )


def on_message_events(session: Session, payloads: list[dict]) -> int:
    return _stored(session, [_row(p, _message_row(p)) for p in payloads])


def on_segment_events(session: Session, payloads: list[dict]) -> int:
    return _stored(session, [row for p in payloads for row in _segment_rows(p)])
