"""Finding rows by the ids in a request path; an unknown id is NotFound."""

from __future__ import annotations

from sqlalchemy.orm import Session, selectinload

from plexus.errors import NotFound
from plexus.keys import usable_key
from services.contacts.models import Contact

# What the contact resource shows besides its own columns: loaded with the contact, in
# one query per kind for any number of contacts.
RESOURCE_PARTS = (
    selectinload(Contact.subscriptions),
    selectinload(Contact.channel_addresses),
    selectinload(Contact.webpush_subscriptions),
    selectinload(Contact.app_push_tokens),
)


def by_key(session: Session, model: type, key, what: str):
    row = session.get(model, key) if usable_key(key) else None
    if row is None:
        raise NotFound(f"no such {what}")
    return row


def contact_or_404(
    session: Session, contact_id, *, whole: bool = True, lock: bool = False
) -> Contact:
    """The contact, with what its resource shows when `whole`; `lock` holds its row
    until the commit (PostgreSQL) for rules that count its children."""
    contact = None
    if usable_key(contact_id):
        contact = session.get(
            Contact,
            contact_id,
            options=RESOURCE_PARTS if whole else (),
            with_for_update=lock or None,
        )
    if contact is None:
        raise NotFound("no such contact")
    return contact
