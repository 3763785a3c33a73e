"""Cursor paging, one way for every service: the arguments every list takes (`PageArgs`:
`limit` 1 to 200, default 50, and `cursor`), the keyset query over a unique key
(`page`), and the answer `{"data": [...], "next_cursor": str|null}` (`envelope`), where
the cursor is the key of the last item given. Keys are unique, so a page never repeats
or skips a row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from marshmallow import Schema, fields, pre_load, validate
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from plexus.contract.fields import Text

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class PageArgs(Schema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT, error=f"must be between 1 and {MAX_LIMIT}"),
    )
    cursor = Text(allow_none=True, load_default=None, max_length=200)

    @pre_load
    def _absent_when_empty(self, data, **kwargs):
        # The gateway passes every query parameter, null when not given; an empty cursor
        # (`?cursor=`) is the first page, as no cursor is.
        return {name: value for name, value in data.items() if value not in (None, "")}


def envelope(data: list, next_cursor: str | None) -> dict:
    return {"data": data, "next_cursor": next_cursor}


def page_of(rows: Sequence, limit: int, resource: Callable, key: Callable) -> dict:
    """The page of `rows` fetched with `limit + 1` (the extra row says there is more)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return envelope([resource(row) for row in rows], key(rows[-1]) if more else None)


def page(
    session: Session,
    query: Select,
    key: InstrumentedAttribute,
    limit: int,
    cursor: str | None,
    resource: Callable,
    *,
    newest_first: bool = False,
) -> dict:
    """`newest_first` for ULID keys (id order is creation order); else by key ascending."""
    if cursor is not None:
        query = query.where(key < cursor if newest_first else key > cursor)
    query = query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1)
    return page_of(session.scalars(query).all(), limit, resource, lambda row: getattr(row, key.key))
