"""The campaigns service's own argument schemas (query parameters as the gateway passes
them: strings, null when absent). Bodies are read with plexus.contract.campaigns."""

from __future__ import annotations

from marshmallow import fields, validate

from plexus.contract.campaigns import RECIPIENT_STATUSES
from plexus.paging import PageArgs


class RecipientArgs(PageArgs):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(RECIPIENT_STATUSES, error="must be one of: {choices}"),
    )
