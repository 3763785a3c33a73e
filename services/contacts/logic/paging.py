"""Cursor paging: `{"data": [...], "next_cursor": str|null}`, where the cursor is the key
of the last item given. Keys are unique, so a page never repeats or skips a row."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session


def page(session: Session, query: Select, key: InstrumentedAttribute, limit: int,
         cursor: str | None, resource: Callable, *, newest_first: bool = False) -> dict:
    """`newest_first` for ULID keys (id order is creation order); else by key ascending."""
    if cursor is not None:
        query = query.where(key < cursor if newest_first else key > cursor)
    query = query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1)
    rows = session.scalars(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [resource(row) for row in rows],
        "next_cursor": getattr(rows[-1], key.key) if more else None,
    }
