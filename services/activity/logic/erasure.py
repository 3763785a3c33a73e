"""Erasing a contact (contact_deleted): every feed row and order of it, its items in the
activity_recorded events not yet published, and a note that it is gone so that events
about it arriving later are dropped."""

from __future__ import annotations

from sqlalchemy import String, cast, delete, select
from sqlalchemy.orm import Session

from plexus.timeutil import utcnow
from services.activity.models import ActivityItem, ErasedContact, Order, Outbox


def erase_contact(session: Session, contact_id: str) -> int:
    """How many feed rows went. Running it twice is harmless."""
    gone = session.execute(
        delete(ActivityItem).where(ActivityItem.contact_id == contact_id)
        .execution_options(synchronize_session=False)).rowcount
    session.execute(delete(Order).where(Order.contact_id == contact_id)
                    .execution_options(synchronize_session=False))
    _forget_unpublished(session, contact_id)
    if session.get(ErasedContact, contact_id) is None:
        session.add(ErasedContact(contact_id=contact_id, erased_at=utcnow()))
    return gone


def _forget_unpublished(session: Session, contact_id: str) -> None:
    """Take the contact's items out of the events still in the outbox (one event lists
    the rows of many contacts); an event left with none goes."""
    mentioning = session.scalars(select(Outbox).where(
        cast(Outbox.payload, String).contains(contact_id))).all()
    for row in mentioning:
        items = [item for item in row.payload.get("items") or []
                 if item.get("contact_id") != contact_id]
        if items:
            row.payload = {**row.payload, "items": items}
        else:
            session.delete(row)
