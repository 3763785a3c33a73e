"""Set-based writes on both databases: multi-row INSERTs on a model's Core table, not the
ORM's unit of work (which costs several times the CPU a row), and the two conflict
clauses SQLite and PostgreSQL share: skip a row whose key is taken, or add to it."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def table_of(model) -> Table:
    return model.__table__


def _insert(session: Session, model):
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    return dialect.insert(table_of(model))


def insert_rows(session: Session, model, rows: list[dict]) -> None:
    """Every row, in one multi-row INSERT."""
    if rows:
        session.execute(table_of(model).insert(), rows)


def insert_new(session: Session, model, rows: list[dict], returning: str | None = None):
    """Rows whose key is not taken yet (a redelivery, or another process's insert at the
    same moment, is skipped); with `returning`, the set of that column's values of the
    rows inserted."""
    if not rows:
        return set() if returning else None
    statement = _insert(session, model).on_conflict_do_nothing()
    if returning is None:
        session.execute(statement, rows)
        return None
    column = table_of(model).c[returning]
    return set(session.scalars(statement.returning(column), rows))


def add_counts(
    session: Session, model, rows: list[dict], key: list[str], column: str = "count"
) -> None:
    """Insert each row, or add its `column` to the stored row with the same `key`."""
    if not rows:
        return
    statement = _insert(session, model)
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={column: table_of(model).c[column] + statement.excluded[column]}
    )
    session.execute(statement, rows)
