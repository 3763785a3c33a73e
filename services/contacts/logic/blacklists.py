"""The email, phone and viber black lists: a listed contact is sent nothing on them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.contract.contacts import BlacklistInput
from plexus.errors import NotFound
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.conflicts import flush
from services.contacts.logic.events import emit
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import contact_resource
from services.contacts.models import Blacklist


def _known_list(list_name) -> str:
    if list_name not in vocab.BLACKLISTS:
        raise NotFound("no such black list; they are " + ", ".join(vocab.BLACKLISTS))
    return list_name


def _entry(contact, list_name: str) -> Blacklist | None:
    return next((entry for entry in contact.blacklists if entry.list == list_name), None)


def add_to_blacklist(session: Session, contact_id: str, list_name: str, data,
                     actor: str) -> dict:
    """List the contact (since now); listing again keeps `since` and updates the reason."""
    _known_list(list_name)
    reason = load(BlacklistInput(), {} if data is None else data)["reason"]
    contact = contact_or_404(session, contact_id)
    entry = _entry(contact, list_name)
    now = utcnow()
    if entry is None:
        contact.blacklists.append(Blacklist(list=list_name, since=now, reason=reason))
        contact.updated_at = now
        flush(session)
        emit(session, events.BLACKLIST_CHANGED, actor, contact_id=contact.id, list=list_name,
             blacklisted=True, reason=reason)
    elif entry.reason != reason:
        entry.reason = reason
        contact.updated_at = now
        flush(session)
    return contact_resource(contact)


def remove_from_blacklist(session: Session, contact_id: str, list_name: str,
                          actor: str) -> dict:
    _known_list(list_name)
    contact = contact_or_404(session, contact_id)
    entry = _entry(contact, list_name)
    if entry is not None:
        contact.blacklists.remove(entry)
        contact.updated_at = utcnow()
        flush(session)
        emit(session, events.BLACKLIST_CHANGED, actor, contact_id=contact.id, list=list_name,
             blacklisted=False, reason=None)
    return contact_resource(contact)
