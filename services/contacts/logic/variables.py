"""Variable definitions: contact variables (a value per contact, in its `variables`) and
account variables (one value for every contact). Messages use both by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.contacts import VariableInput, VariableUpdate, definition_value_error
from plexus.errors import Conflict, Invalid
from plexus.paging import page
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.conflicts import EXISTS, flush
from services.contacts.logic.lookup import by_key
from services.contacts.logic.representation import variable_resource
from services.contacts.models import Contact, VariableDefinition


def list_variables(session: Session, limit: int, cursor: str | None) -> dict:
    return page(
        session,
        select(VariableDefinition),
        VariableDefinition.name,
        limit,
        cursor,
        variable_resource,
    )


def get_variable(session: Session, name: str) -> dict:
    return variable_resource(by_key(session, VariableDefinition, name, "variable"))


def create_variable(session: Session, data, actor: str) -> dict:
    wanted = load(VariableInput(), data)
    if session.get(VariableDefinition, wanted["name"]) is not None:
        raise Conflict(f"variable {wanted['name']} {EXISTS}", {"name": [EXISTS]})
    now = utcnow()
    definition = VariableDefinition(
        **wanted, created_at=now, updated_at=now, created_by=actor, updated_by=actor
    )
    session.add(definition)
    flush(session, {"name": "name"}, EXISTS)
    return variable_resource(definition)


def _held_by_a_contact(session: Session, name: str) -> bool:
    return (
        session.scalar(
            select(Contact.id).where(Contact.variables[name].as_string().is_not(None)).limit(1)
        )
        is not None
    )


def update_variable(session: Session, name: str, data, actor: str) -> dict:
    """Change an account variable's value, or a type no contact holds a value of."""
    wanted = load(VariableUpdate(), data)
    definition = by_key(session, VariableDefinition, name, "variable")
    kind = wanted.get("type", definition.type)
    value = wanted.get("value", definition.value)
    problem = definition_value_error(definition.scope, kind, value)
    if problem:
        if "value" not in wanted:
            problem = f"the current value {problem}; give a new value with the new type"
        raise Invalid(f"value {problem}", {"value": [problem]})
    if (
        kind != definition.type
        and definition.scope == "contact"
        and _held_by_a_contact(session, definition.name)
    ):
        message = "contacts hold values of this variable; its type cannot change"
        raise Conflict(message, {"type": [message]})
    if (kind, value) != (definition.type, definition.value):
        definition.type, definition.value = kind, value
        definition.updated_at, definition.updated_by = utcnow(), actor
    return variable_resource(definition)
