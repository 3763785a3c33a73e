"""Erasing a contact (contact_deleted): every feed row and order of it, its items in the
activity_recorded events not yet published, and a note that it is gone so that events
about it arriving later are dropped."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from plexus.outbox import forget_contact
from plexus.timeutil import utcnow
from services.activity.models import ActivityItem, ErasedContact, Order, Outbox


def erase_contact(session: Session, contact_id: str) -> int:
    """How many feed rows went. Running it twice is harmless."""
    gone = session.execute(
        delete(ActivityItem)
        .where(ActivityItem.contact_id == contact_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        delete(Order)
        .where(Order.contact_id == contact_id)
        .execution_options(synchronize_session=False)
    )
    forget_contact(session, Outbox, contact_id)
    if session.get(ErasedContact, contact_id) is None:
        session.add(ErasedContact(contact_id=contact_id, erased_at=utcnow()))
    return gone
