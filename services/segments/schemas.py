"""The segments service's own argument schemas (query parameters as the gateway passes
them: strings, null when absent). Bodies are read with plexus.contract.segments."""

from __future__ import annotations

from marshmallow import Schema

from plexus.contract.fields import Text


class ExplainArgs(Schema):
    contact_id = Text(required=True, max_length=64)
