"""Every variable a message to a contact can use, with its value for that contact:
its own fields, its contact variables, its subscription categories (list variables)
and the account variables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.contacts import MESSAGE_FIELDS, READ_ONLY_MESSAGE_FIELDS
from plexus.timeutil import rfc3339
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import field_value
from services.contacts.models import Category, Contact, VariableDefinition

TIMES = ("created_at", "updated_at")


def _field(contact: Contact, name: str):
    if name.startswith("address."):
        return (contact.address or {}).get(name.split(".", 1)[1])
    if name in TIMES:
        return rfc3339(getattr(contact, name))
    if name in ("id", "status"):
        return getattr(contact, name)
    return field_value(contact, name)


def _item(name: str, kind: str, value, editable: bool) -> dict:
    return {"name": name, "kind": kind, "value": value, "editable": editable}


def contact_variables(session: Session, contact_id: str, q: str | None = None) -> dict:
    """`q` keeps the names containing it, without regard to case."""
    contact = contact_or_404(session, contact_id, whole=False)
    definitions = session.scalars(
        select(VariableDefinition).order_by(VariableDefinition.name)
    ).all()
    categories = session.scalars(select(Category.name).order_by(Category.name)).all()
    chosen = contact.categories or {}
    held = contact.variables or {}
    items = [
        *(
            _item(name, "field", _field(contact, name), name not in READ_ONLY_MESSAGE_FIELDS)
            for name in MESSAGE_FIELDS
        ),
        *(
            _item(d.name, "variable", held.get(d.name), True)
            for d in definitions
            if d.scope == "contact"
        ),
        # Opt-in: a category the contact never chose is not chosen.
        *(
            _item(f"categories.{name}", "list", bool(chosen.get(name, False)), True)
            for name in categories
        ),
        *(_item(d.name, "account", d.value, False) for d in definitions if d.scope == "account"),
    ]
    if q:
        needle = q.lower()
        items = [item for item in items if needle in item["name"].lower()]
    return {"data": items}
