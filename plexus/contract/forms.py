"""The public subscription form (/forms/subscribe, /forms/confirm/{token}): what a web
page posts, and what it is answered. No API key: anyone may post, so the answers say
nothing about whether the address is known."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plexus.contract.contacts import CATEGORY_PATTERN, CATEGORY_RULE
from plexus.contract.fields import Email, Language, StrictSchema, Text

MAX_CATEGORIES = 20


class FormSubscription(StrictSchema):
    email = Email(required=True, metadata={"description": "The address to subscribe."})
    first_name = Text(allow_none=True, load_default=None, max_length=100)
    categories = fields.List(
        Text(validate=validate.Regexp(CATEGORY_PATTERN, error=CATEGORY_RULE)),
        load_default=list,
        validate=validate.Length(max=MAX_CATEGORIES),
        metadata={
            "description": "Registered subscription categories to opt in to once "
            "the address is confirmed (GET /v1/categories)."
        },
    )
    language = Language(
        allow_none=True,
        load_default=None,
        metadata={"description": "ISO 639-1, for a new contact."},
    )


class FormAccepted(Schema):
    status = fields.String(
        required=True,
        metadata={
            "description": "`accepted`, whatever happens next: a confirmation email goes out "
            "unless the address is already subscribed, black-listed or "
            "suppressed, or had one within the last few minutes"
        },
    )


class FormConfirmed(Schema):
    status = fields.String(required=True, metadata={"description": "`subscribed`"})
    email = fields.String(required=True)
    categories = fields.List(
        fields.String(), required=True, metadata={"description": "the categories opted in to"}
    )
