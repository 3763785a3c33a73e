"""Recording the service's events in its outbox, inside the caller's transaction: they
leave for the broker only after the commit (plexus.outbox)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plexus.outbox import record_event
from services.contacts.models import Outbox


def emit(session: Session, name: str, actor: str, **payload) -> dict:
    return record_event(session, Outbox, name, {**payload, "actor": actor})
