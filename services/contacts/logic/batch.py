"""Importing contacts: up to 1,000 per call, each matched to a stored contact by user_id,
else email, else phone, then created or changed (as a PATCH of the fields given).

Each item is written in a SAVEPOINT of its own, so one bad item never fails the others.
The names the items refer to and the contacts holding their identifiers are loaded once
for the whole batch."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plexus.contract.contacts import ContactBatch, ContactCreate
from plexus.errors import Conflict
from plexus.parsing import WHOLE, load
from services.contacts.logic import contact_input
from services.contacts.logic.contacts import change, insert
from services.contacts.logic.identifiers import Owners
from services.contacts.logic.lookup import RESOURCE_PARTS
from services.contacts.logic.references import References


def _result(index: int, status: str, contact_id: str | None = None,
            errors: dict | None = None) -> dict:
    return {"index": index, "status": status, "id": contact_id, "errors": errors}


def batch_upsert(session: Session, items, actor: str) -> dict:
    load(ContactBatch(), {"contacts": items})
    schema = ContactCreate()
    read = [contact_input.read(schema, item) for item in items]
    every = [values for values, _ in read]
    references = References.load(session, every)
    owners = Owners.load(session, every, options=RESOURCE_PARTS)
    results = []
    for index, (values, format_errors) in enumerate(read):
        matched = owners.match(values) if not format_errors else None
        errors = contact_input.problems(values, format_errors, references, matched)
        if errors:
            results.append(_result(index, "error", matched and matched.id, errors))
            continue
        try:
            with session.begin_nested():
                if matched is None:
                    contact = insert(session, values, owners, actor)
                else:
                    contact = matched
                    change(session, contact, values, owners, actor)
        except Conflict as error:
            errors = error.errors or {WHOLE: [error.detail]}
            results.append(_result(index, "error", matched and matched.id, errors))
            continue
        results.append(_result(index, "created" if matched is None else "updated", contact.id))
    return {"results": results}
