"""Reading a contact body: its format (the contract schemas), the names it refers to
(References) and the identifier rule, with every problem reported at once."""

from __future__ import annotations

from marshmallow import Schema

from plexus.contract.contacts import IDENTIFIERS
from plexus.parsing import WHOLE, load_partly
from services.contacts.logic.column_reading import ColumnReader
from services.contacts.logic.references import References
from services.contacts.models import Contact

NEEDS_IDENTIFIER = "at least one of user_id, email, phone is required"


def read(schema: Schema, data) -> tuple[dict, dict[str, list[str]]]:
    """The valid fields (`region`, a reading hint, already applied and dropped) and the
    format errors."""
    values, errors = load_partly(schema, data)
    values.pop("region", None)
    return values, errors


def read_many(schema: Schema, items: list) -> list[tuple[dict, dict[str, list[str]]]]:
    """`read` of each item, column by column (column_reading): the same values and errors."""
    read = ColumnReader(schema).read(items)
    for values, _ in read:
        values.pop("region", None)
    return read


def missing_identifier(values: dict, contact: Contact | None = None) -> dict[str, list[str]]:
    """Errors naming every identifier when the contact would be left with none."""

    def after(name):
        return values[name] if name in values else getattr(contact, name, None)

    if any(after(name) is not None for name in IDENTIFIERS):
        return {}
    return {name: [NEEDS_IDENTIFIER] for name in IDENTIFIERS}


def problems(
    values: dict, format_errors: dict, references: References, contact: Contact | None = None
) -> dict[str, list[str]]:
    errors = {**format_errors, **references.errors(values)}
    # A bad identifier (or a body that is no object) is reported as such, not also as
    # a missing identifier.
    if not any(name in errors for name in (WHOLE, *IDENTIFIERS)):
        errors.update(missing_identifier(values, contact))
    return errors
