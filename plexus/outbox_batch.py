"""Recording many outbox events at once: one multi-row INSERT instead of an ORM object
an event (an import records three events a contact). The rows are those
`plexus.outbox.record_event` makes, and the relay publishes them the same way."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from plexus.ids import new_id
from plexus.timeutil import rfc3339, utcnow


def event_body(event_type: str, payload: dict) -> dict:
    """An event as `record_event` writes it (keep the two alike): its name, a new id and
    the moment, then the payload."""
    return {"event": event_type, "event_id": new_id(), "occurred_at": rfc3339(utcnow()), **payload}


def record_events(session: Session, outbox_model: type, bodies: list[dict]) -> None:
    """Add events made by `event_body`, in order, to the current transaction; they are
    published after the commit."""
    if not bodies:
        return
    session.execute(
        insert(outbox_model.__table__),
        [{"event_type": body["event"], "payload": body} for body in bodies],
    )
    session.info["outbox_dirty"] = True
