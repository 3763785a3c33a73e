"""Reading many contact bodies at once (an import batch) without a marshmallow load per
item: each field of the schema is applied to its column of values, and each distinct
string of a column (an email, a language, a phone in its region) is read only once.

The fields are the schema's own, called as its load calls them, so a valid body reads to
the very values the schema gives, in the same order. A body the fields find anything wrong
with (or one that is no object, or has a field the schema does not know) is read again by
the schema itself: its errors are the schema's, word for word, by construction. Bad items
are few in an import; the cost of the second reading falls on them alone."""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import Schema, ValidationError

from plexus.contract.fields import region_hint
from plexus.parsing import load_partly

# A field whose reading depends on another part of the body: its cache key holds that part.
CONTEXT = {"phone": region_hint}


class _Invalid(Exception):
    """This body needs the schema's own reading (for its error messages)."""


class ColumnReader:
    def __init__(self, schema: Schema):
        # Hooks (pre/post_load, validates_schema) act on the whole body: a schema with any
        # is not the sum of its fields, and this reading would not be the schema's.
        if any(schema._hooks.values()):
            raise ValueError(f"{type(schema).__name__} has load hooks; read it with load")
        self.schema = schema
        self.fields = schema.load_fields  # in declaration order: the order load gives
        self.cache: dict[tuple, object] = {}

    def read(self, items: list) -> list[tuple[dict, dict[str, list[str]]]]:
        """(values, errors) for each item, as `plexus.parsing.load_partly` gives them."""
        return [self._read_one(item) for item in items]

    def _read_one(self, item) -> tuple[dict, dict[str, list[str]]]:
        try:
            return self._fast(item), {}
        except _Invalid:
            return load_partly(self.schema, item)

    def _fast(self, item) -> dict:
        if type(item) is not dict or not item.keys() <= self.fields.keys():
            raise _Invalid
        values = {}
        for name, field in self.fields.items():
            if name in item:
                values[name] = self._field(name, field, item[name], item)
        return values

    def _field(self, name: str, field, value, item):
        # Only strings are cached: they are what costs (emails, phones, codes), and their
        # equality is exact (1 == 1.0 == True, and 0.0 == -0.0, are not the same input).
        if type(value) is not str:
            return self._deserialize(name, field, value, item)
        context: Callable | None = CONTEXT.get(name)
        key = (name, value, context(item) if context else None)
        try:
            found = self.cache[key]
        except KeyError:
            found = self.cache[key] = self._deserialize(name, field, value, item)
        return found

    @staticmethod
    def _deserialize(name: str, field, value, item):
        try:
            return field.deserialize(value, name, item)
        except ValidationError:
            raise _Invalid from None
