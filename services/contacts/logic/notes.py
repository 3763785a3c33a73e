"""Free-text notes on a contact by the people who work with it: at most five each."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plexus.audit import record_deletion
from plexus.contract.contacts import NoteInput
from plexus.errors import Conflict, NotFound
from plexus.paging import envelope
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.conflicts import flush
from services.contacts.logic.lookup import by_key, contact_or_404
from services.contacts.logic.representation import note_resource
from services.contacts.models import Note

MAX_NOTES = 5


def list_notes(session: Session, contact_id: str) -> dict:
    contact = contact_or_404(session, contact_id, whole=False)
    notes = session.scalars(
        select(Note).where(Note.contact_id == contact.id).order_by(Note.id.desc())
    )
    return envelope([note_resource(note) for note in notes], None)


def add_note(session: Session, contact_id: str, data, actor: str) -> dict:
    content = load(NoteInput(), data)["content"]
    # The row lock makes two notes added at once count each other (PostgreSQL).
    contact = contact_or_404(session, contact_id, whole=False, lock=True)
    held = session.scalar(select(func.count()).where(Note.contact_id == contact.id))
    if held >= MAX_NOTES:
        message = f"a contact has at most {MAX_NOTES} notes; delete one first"
        raise Conflict(message, {"notes": [message]})
    note = Note(contact_id=contact.id, content=content, author=actor, created_at=utcnow())
    session.add(note)
    flush(session)
    return note_resource(note)


def delete_note(session: Session, contact_id: str, note_id: str, actor: str) -> None:
    contact = contact_or_404(session, contact_id, whole=False)
    note = by_key(session, Note, note_id, "note")
    if note.contact_id != contact.id:
        raise NotFound("no such note")
    session.delete(note)
    record_deletion("note", note.id, actor)
