"""Unique keys taken by someone else. Rules check before writing, but two requests can
race past the check; the database's unique constraint then decides, and its
IntegrityError becomes the same Conflict naming the field (never a 500)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plexus.errors import Conflict

TAKEN = "belongs to another contact"
EXISTS = "already exists"
IDENTIFIER_COLUMNS = {"user_id": "user_id", "email": "email", "phone": "phone"}

# sqlite3: "UNIQUE constraint failed: contacts.email" (or "t.a, t.b" for a composite key)
SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")
# psycopg2: 'duplicate key value violates unique constraint "uq_contacts_email"
#            DETAIL:  Key (email)=(a@b.c) already exists.'
POSTGRES_KEY = re.compile(r"Key \(([^)]*)\)=")


def violated_columns(error: IntegrityError) -> tuple[str, ...]:
    message = str(error.orig)
    match = SQLITE_UNIQUE.search(message)
    if match:
        return tuple(column.split(".")[-1] for column in match.group(1).split(", "))
    match = POSTGRES_KEY.search(message)
    if match:
        return tuple(column.strip() for column in match.group(1).split(","))
    return ()


def conflict(error: IntegrityError, fields: Mapping[str, str], message: str) -> Conflict:
    """`fields` maps the columns whose clash the caller can name to the API field."""
    for column in reversed(violated_columns(error)):
        if column in fields:
            field = fields[column]
            return Conflict(f"{field} {message}", {field: [message]})
    return Conflict("another change was made at the same time; try again")


def flush(
    session: Session, fields: Mapping[str, str] = IDENTIFIER_COLUMNS, message: str = TAKEN
) -> None:
    """Write now, so that a clash is known (and named) before events are recorded."""
    try:
        session.flush()
    except IntegrityError as error:
        raise conflict(error, fields, message) from None
