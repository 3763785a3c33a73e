"""Which contacts many references name, in a few queries: what a batch of posted events
or orders needs (activity asks once for the whole batch, not once an event).

A reference is `{"id"}`, else any of `{"user_id", "email", "phone"}`, all of which must
name the same contact; the answer for each is `{"id"}`, `{"not_found": true}`, or
`{"invalid": {field: [message]}}` (a phone number that cannot be read), as get_contact
and find_contacts would decide one by one. resolve_or_create makes the contacts that
events and orders name by identifiers when none has them."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plexus.contract.fields import normalise_phone
from plexus.errors import Conflict, Invalid
from plexus.parsing import flatten
from services.contacts.logic.contacts import create_contact
from services.contacts.models import Contact

NOT_FOUND = {"not_found": True}
IDENTIFIERS = ("user_id", "email", "phone")


def _wanted(ref: dict) -> dict | None:
    """The stored values the reference's identifiers must have, or the `invalid` answer."""
    wanted = {}
    if ref.get("user_id") is not None:
        wanted["user_id"] = ref["user_id"]
    if ref.get("email") is not None:
        wanted["email"] = str(ref["email"]).lower()
    if ref.get("phone") is not None:
        try:
            wanted["phone"] = normalise_phone(str(ref["phone"]), None)
        except ValidationError as error:
            return {"invalid": flatten(error.messages, "phone")}
    return wanted


def resolve_refs(session: Session, refs: list[dict]) -> list[dict]:
    by_id = {ref["id"] for ref in refs if ref.get("id")}
    known_ids = (
        set(session.scalars(select(Contact.id).where(Contact.id.in_(by_id)))) if by_id else set()
    )
    wanted = [None if ref.get("id") else _wanted(ref) for ref in refs]
    values: dict[str, set] = {name: set() for name in IDENTIFIERS}
    for want in wanted:
        if want and "invalid" not in want:
            for name, value in want.items():
                values[name].add(value)
    owners: dict[tuple[str, str], tuple] = {}
    conditions = [getattr(Contact, name).in_(given) for name, given in values.items() if given]
    if conditions:
        for row in session.execute(
            select(Contact.id, *(getattr(Contact, n) for n in IDENTIFIERS)).where(or_(*conditions))
        ):
            for name, value in zip(IDENTIFIERS, row[1:], strict=True):
                if value is not None:
                    owners[(name, value)] = row
    answers = []
    for ref, want in zip(refs, wanted, strict=True):
        if ref.get("id"):
            answers.append({"id": ref["id"]} if ref["id"] in known_ids else NOT_FOUND)
        elif not want or "invalid" in want:
            answers.append(want or NOT_FOUND)
        else:
            answers.append(_owner(owners, want))
    return answers


# How a contact made for a reference arrived (vocab.CREATED_VIA).
CREATING = ("event", "order")


def resolve_or_create(
    session: Session, refs: list[dict], created_via: str | None, actor: str
) -> list[dict]:
    """resolve_refs, and with `created_via` (event, order) a contact made for each
    reference by identifiers that names none, with those identifiers (contacts.insert's
    rules: the channels of its addresses subscribed, suppression after erasure). An id
    that names no contact stays `not_found`; identifiers that cannot be a contact's
    answer `invalid`; identifiers held by different contacts `conflict`.

    Idempotent: the same reference again, in this batch or in a retried request, finds
    the contact made the first time. Two requests making the same contact at once: the
    loser's insert breaks the unique key, its savepoint is undone, and it finds the
    winner's."""
    answers = resolve_refs(session, refs)
    if created_via is None:
        return answers
    if created_via not in CREATING:
        raise Invalid("no such origin", {"created_via": ["one of " + ", ".join(CREATING)]})
    for index, (ref, answer) in enumerate(zip(refs, answers, strict=True)):
        if answer is not NOT_FOUND or ref.get("id"):
            continue
        identifiers = {name: ref[name] for name in IDENTIFIERS if ref.get(name) is not None}
        try:
            with session.begin_nested():
                made = create_contact(session, identifiers, actor, created_via)
            answers[index] = {"id": made["id"]}
        except Conflict as clash:
            again = resolve_refs(session, [ref])[0]
            answers[index] = again if again is not NOT_FOUND else {"conflict": clash.errors}
        except Invalid as error:
            answers[index] = {"invalid": error.errors}
    return answers


def _owner(owners: dict, want: dict) -> dict:
    """The one contact holding every identifier wanted (each names at most one)."""
    found = {owners.get((name, value)) for name, value in want.items()}
    if len(found) != 1 or None in found:
        return NOT_FOUND
    return {"id": found.pop()[0]}
