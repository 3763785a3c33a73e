"""The contacts service's own argument schemas: the RPC arguments that are not request
bodies (those are read with plexus.contract.contacts)."""

from __future__ import annotations

from marshmallow import Schema, validate

from plexus.contract import vocab
from plexus.contract.fields import CountryCode, Text
from plexus.paging import PageArgs

ULID_PATTERN = r"^[0-9a-hjkmnp-tv-z]{26}$"


class IdPageArgs(PageArgs):
    """Pages keyed by a ULID (contacts, the ledger): the cursor is the last id given."""

    cursor = Text(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(ULID_PATTERN, error="not a cursor given by this API"),
    )


class FindContactsArgs(IdPageArgs):
    user_id = Text(allow_none=True, load_default=None, max_length=255)
    email = Text(allow_none=True, load_default=None, max_length=320)
    phone = Text(allow_none=True, load_default=None, max_length=64)
    region = CountryCode(allow_none=True, load_default=None)
    # Filters of the list (and of a look-up: all must hold).
    status = Text(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(vocab.CONTACT_STATUSES, error="must be active or inactive"),
    )
    subscribed = Text(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(
            vocab.MESSAGE_CHANNELS, error=f"must be one of {', '.join(vocab.MESSAGE_CHANNELS)}"
        ),
    )
    name = Text(allow_none=True, load_default=None, max_length=100)


class ContactVariablesArgs(Schema):
    q = Text(allow_none=True, load_default=None, max_length=100)


class BlacklistPageArgs(PageArgs):
    """A black list's page: in address order, the cursor the last address given; `q` a
    prefix of the addresses wanted."""

    cursor = Text(allow_none=True, load_default=None, max_length=320)
    q = Text(allow_none=True, load_default=None, max_length=320)
