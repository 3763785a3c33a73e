"""Importing contacts: up to 1,000 per call, each matched to a stored contact by user_id,
else email, else phone, then created or changed (as a PATCH of the fields given).

One bad item never fails the others: items are checked against each other and the stored
contacts first, and the good ones written together; should a concurrent writer clash with
that write, each item is written again in a SAVEPOINT of its own. The names the items
refer to and the contacts holding their identifiers are loaded once for the whole batch.

The items are read column by column (contact_input.read_many), and the batch is applied
to plain rows and written by a few multi-row statements (writers.BatchWriter); the
item-by-item retry goes through the ORM, as single requests do. Both apply the same rules
(contacts.insert and change) and record the same events."""

from __future__ import annotations

import contextlib

from sqlalchemy.orm import Session

from plexus.contract.contacts import ContactBatch, ContactCreate
from plexus.errors import Conflict
from plexus.parsing import WHOLE, load
from services.contacts.logic import contact_input
from services.contacts.logic.addresses import CONTACT_FIELDS, KnownAddresses
from services.contacts.logic.contacts import change, insert
from services.contacts.logic.identifiers import Owners
from services.contacts.logic.lookup import RESOURCE_PARTS
from services.contacts.logic.references import References
from services.contacts.logic.writers import BatchWriter


def _result(
    index: int, status: str, contact_id: str | None = None, errors: dict | None = None
) -> dict:
    return {"index": index, "status": status, "id": contact_id, "errors": errors}


def batch_upsert(session: Session, items, actor: str) -> dict:
    load(ContactBatch(), {"contacts": items})
    read = contact_input.read_many(ContactCreate(), items)
    every = [values for values, _ in read]
    references = References.load(session, every)
    try:
        # Every good item applied in memory and written at the end: a few multi-row
        # statements, not a savepoint and a flush an item. Clashes inside the batch are
        # known before (Owners); one at the write comes from a writer beside us: all of
        # it is undone, and done again item by item.
        with session.begin_nested():
            owners = Owners.load(session, every, as_rows=True)
            writer = BatchWriter(KnownAddresses(session).preload(_addresses(every, owners)))
            results = _upsert(session, read, references, owners, actor, writer)
            writer.write(session)
            return {"results": results}
    except Conflict:
        owners = Owners.load(session, every, options=RESOURCE_PARTS)
        return {"results": _upsert(session, read, references, owners, actor, None)}


def _addresses(every: list[dict], owners: Owners) -> dict[str, set[str]]:
    """Every email and phone the batch may give a contact or take from one: the items'
    and those of the stored contacts they match."""
    found = {
        kind: {values[kind] for values in every if values.get(kind)} for kind in CONTACT_FIELDS
    }
    for held in owners.holder.values():
        for contact in held.values():
            for kind in CONTACT_FIELDS:
                if getattr(contact, kind) is not None:
                    found[kind].add(getattr(contact, kind))
    return found


def _upsert(
    session: Session,
    read: list,
    references: References,
    owners: Owners,
    actor: str,
    writer: BatchWriter | None,
) -> list[dict]:
    """Each item in order; with a `writer`, its rows are left to it, else each item is
    written in a savepoint of its own (the retry)."""
    one_by_one = writer is None
    results = []
    for index, (values, format_errors) in enumerate(read):
        matched = owners.match(values) if not format_errors else None
        errors = contact_input.problems(values, format_errors, references, matched)
        if errors:
            results.append(_result(index, "error", matched and matched.id, errors))
            continue
        try:
            # Known clashes first, before anything of the item is added: in the fast
            # pass a Conflict after that point is not the item's alone (it goes back
            # one by one).
            owners.check_free(values, matched)
        except Conflict as error:
            results.append(_result(index, "error", matched and matched.id, error.errors))
            continue
        try:
            with session.begin_nested() if one_by_one else contextlib.nullcontext():
                if matched is None:
                    contact = insert(
                        session,
                        values,
                        owners,
                        actor,
                        write=one_by_one,
                        writer=writer,
                        created_via="import",
                    )
                else:
                    contact = matched
                    change(session, contact, values, owners, actor, write=one_by_one, writer=writer)
        except Conflict as error:
            if not one_by_one:
                raise
            errors = error.errors or {WHOLE: [error.detail]}
            results.append(_result(index, "error", matched and matched.id, errors))
            continue
        results.append(_result(index, "created" if matched is None else "updated", contact.id))
    return results
