"""The segments service's own argument schemas (query parameters as the gateway passes
them: strings, null when absent). Bodies are read with plexus.contract.segments."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from plexus.contract.contacts import Text


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(
        min=1, max=200, error="must be between 1 and 200"))
    cursor = Text(load_default=None, max_length=200)

    @pre_load
    def _absent_when_null(self, data, **kwargs):
        return {name: value for name, value in data.items() if value not in (None, "")}


class ExplainArgs(Schema):
    contact_id = Text(required=True, max_length=64)
