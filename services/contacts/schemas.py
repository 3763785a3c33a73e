"""The contacts service's own argument schemas: the RPC arguments that are not request
bodies (those are read with plexus.contract.contacts)."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from plexus.contract.contacts import CountryCode, Text

ULID_PATTERN = r"^[0-9a-hjkmnp-tv-z]{26}$"


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(
        min=1, max=200, error="must be between 1 and 200"))
    cursor = Text(allow_none=True, load_default=None, max_length=200)

    @pre_load
    def _absent_when_null(self, data, **kwargs):
        # The gateway passes every query parameter, null when not given.
        return {name: value for name, value in data.items() if value is not None}


class IdPageArgs(PageArgs):
    """Pages keyed by a ULID (contacts, the ledger): the cursor is the last id given."""

    cursor = Text(allow_none=True, load_default=None, validate=validate.Regexp(
        ULID_PATTERN, error="not a cursor given by this API"))


class FindContactsArgs(IdPageArgs):
    user_id = Text(allow_none=True, load_default=None, max_length=255)
    email = Text(allow_none=True, load_default=None, max_length=320)
    phone = Text(allow_none=True, load_default=None, max_length=64)
    region = CountryCode(allow_none=True, load_default=None)


class ContactVariablesArgs(Schema):
    q = Text(allow_none=True, load_default=None, max_length=100)


class BlacklistPageArgs(PageArgs):
    """A black list's page: in address order, the cursor the last address given; `q` a
    prefix of the addresses wanted."""

    cursor = Text(allow_none=True, load_default=None, max_length=320)
    q = Text(allow_none=True, load_default=None, max_length=320)
