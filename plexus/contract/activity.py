"""The public resources of the activity service as marshmallow schemas.

The activity service loads request bodies with the `*Input` and `EventBatch` schemas; the
gateway publishes every schema here as OpenAPI. Rules that need another service (which
contact an identifier names) are the activity service's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pycountry
from marshmallow import ValidationError, fields, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.fields import StrictBoolean, StrictSchema, Text
from plexus.timeutil import utcnow

BATCH_LIMIT = 1000
CURRENCIES = frozenset(currency.alpha_3 for currency in pycountry.currencies)
# Clocks differ: an external system's "now" may run a little ahead of ours.
FUTURE_TOLERANCE = timedelta(minutes=5)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
CONTACT_KEYS = ("id", "user_id", "email", "phone")
PERIODS = {"7d": 7, "14d": 14, "30d": 30}
EXPORT_FORMATS = ("csv", "ndjson")


def _about(text: str, **extra) -> dict:
    return {"description": text, **extra}


def parse_rfc3339(text) -> datetime:
    """An aware UTC datetime from RFC 3339 text; ValidationError on anything else."""
    if not isinstance(text, str) or not RFC3339.match(text):
        raise ValidationError("must be an RFC 3339 time, e.g. 2026-11-23T13:05:10Z")
    digits = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Python keeps microseconds at most
    try:
        moment = datetime.fromisoformat(digits.upper())
    except ValueError:
        raise ValidationError("not a real time (month, day or hour out of range)") from None
    return moment.astimezone(UTC)


class Moment(fields.Field):
    """RFC 3339 with a zone; read as aware UTC."""

    def _deserialize(self, value, _attr, _data, **kwargs):
        return parse_rfc3339(value)


class PastMoment(Moment):
    """When something happened: not in the future (beyond a few minutes of clock skew)."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment > utcnow() + FUTURE_TOLERANCE:
            raise ValidationError("must not be in the future")
        return moment


class Currency(Text):
    """ISO 4217, upper-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).upper()
        if code not in CURRENCIES:
            raise ValidationError("not an ISO 4217 currency code")
        return code


class Amount(fields.Float):
    def __init__(self, **kwargs):
        super().__init__(
            allow_nan=False,
            validate=validate.Range(min=0, max=1e15, error="must be between 0 and 1e15"),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


# ---------------------------------------------------------------- input


class ContactRef(StrictSchema):
    """Which contact: its id, or any of its identifiers (all given must match)."""

    id = Text(max_length=26)
    user_id = Text(max_length=255)
    email = Text(max_length=320)
    phone = Text(max_length=64)

    @validates_schema
    def _one_at_least(self, data, **kwargs):
        if not any(data.get(key) for key in CONTACT_KEYS):
            raise ValidationError("give the contact's id, user_id, email or phone")


class Conversion(StrictSchema):
    value = Amount(required=True)
    currency = Currency(required=True, metadata=_about("ISO 4217, e.g. EUR"))


class Properties(fields.Dict):
    """Free JSON about the event, kept as given (at most 16 KiB of it)."""

    LIMIT = 16 * 1024

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Raw(allow_none=True), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if len(json.dumps(loaded, ensure_ascii=False)) > self.LIMIT:
            raise ValidationError(f"must be at most {self.LIMIT} bytes as JSON")
        return loaded


def create_contact_field() -> StrictBoolean:
    return StrictBoolean(
        load_default=True,
        metadata=_about(
            "Default true: a contact named by user_id, email or phone that no contact has "
            "is created with them (created_via event or order); false answers 404 instead"
        ),
    )


class EventInput(StrictSchema):
    """A custom event, or a custom conversion when `conversion` is given."""

    contact = fields.Nested(ContactRef, required=True)
    name = Text(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata=_about("What happened, e.g. viewed_pricing"),
    )
    properties = Properties(load_default=dict)
    occurred_at = PastMoment(
        load_default=None,
        metadata=_about(
            "RFC 3339; default now; not more than 5 minutes in the future", format="date-time"
        ),
    )
    conversion = fields.Nested(Conversion, load_default=None, allow_none=True)
    create_contact = create_contact_field()


class EventBatch(StrictSchema):
    events = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(
            min=1, max=BATCH_LIMIT, error=f"between 1 and {BATCH_LIMIT:,} events"
        ),
        metadata=_about("Events as in EventInput, each recorded or refused on its own."),
    )


class OrderInput(StrictSchema):
    contact = fields.Nested(ContactRef, required=True)
    external_id = Text(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata=_about("The order's id in the shop; posting it again updates the order"),
    )
    amount = Amount(required=True)
    currency = Currency(required=True)
    status = Text(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,31}$", error="lower-case letters, digits and _, at most 32"
        ),
        metadata=_about("The shop's own status: created, paid, shipped, refunded..."),
    )
    occurred_at = PastMoment(
        load_default=None, metadata=_about("RFC 3339; default now", format="date-time")
    )
    create_contact = create_contact_field()


# ---------------------------------------------------------------- answers


class ActivityItem(StrictSchema):
    id = fields.String(required=True)
    contact_id = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.ACTIVITY_CHANNELS))
    origin = fields.String(required=True, allow_none=True, validate=validate.OneOf(vocab.ORIGINS))
    type = fields.String(required=True, metadata=_about("One of the channel's types"))
    message_id = fields.String(required=True, allow_none=True)
    details = fields.Dict(
        required=True,
        metadata=_about(
            "By type: changed (field names), list and reason, segment_id and segment_name, "
            "name and properties, conversion, order..."
        ),
    )


class StatusChange(StrictSchema):
    status = fields.String(required=True)
    at = fields.DateTime(required=True)
    details = fields.Dict(allow_none=True)


class Message(StrictSchema):
    """The message as messaging keeps it (GET /v1/messages/{id})."""

    id = fields.String(required=True)
    history = fields.List(fields.Nested(StatusChange), required=True)


class ActivityItemDetail(ActivityItem):
    # Only on a message item (message_id set): other items have neither.
    message = fields.Raw(
        allow_none=True,
        metadata=_about(
            "Only on a message item: the message with its status history and what triggered "
            "it; null when messaging did not answer (see message_error)"
        ),
    )
    message_error = fields.String(
        allow_none=True, metadata=_about("Only on a message item: why `message` is null")
    )
    trigger = fields.Dict(
        allow_none=True,
        metadata=_about(
            "Only on a message item: what caused the message ({campaign_id, variant?}, "
            "{workflow_id, run_id, step, cause}), null for one sent through the API"
        ),
    )


class ChannelCounts(StrictSchema):
    total = fields.Integer(required=True)
    types = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ActivitySummary(StrictSchema):
    contact_id = fields.String(required=True)
    period = fields.String(required=True, allow_none=True)
    since = fields.DateTime(required=True)
    until = fields.DateTime(required=True)
    total = fields.Integer(required=True)
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelCounts), required=True)


class EventBatchItemResult(StrictSchema):
    index = fields.Integer(required=True, metadata=_about("Position in `events`."))
    status = fields.String(required=True, validate=validate.OneOf(["accepted", "error"]))
    id = fields.String(required=True, allow_none=True, metadata=_about("The feed item"))
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=True, allow_none=True
    )


class EventBatchResult(StrictSchema):
    results = fields.List(fields.Nested(EventBatchItemResult), required=True)
