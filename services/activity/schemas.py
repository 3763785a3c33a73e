"""The activity service's own argument schemas: the query parameters of its RPCs, which
the gateway passes as the client wrote them (null when absent). Request bodies are read
with plexus.contract.activity."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.activity import PERIODS, Moment
from plexus.contract.fields import Text

EVERY_TYPE = tuple(dict.fromkeys(t for types in vocab.ACTIVITY_TYPES.values() for t in types))
EXPORT_PAGE_LIMIT = 5000


class Choices(fields.Field):
    """Several values, comma-separated ("email,sms") or as a list; each one known."""

    def __init__(self, choices, **kwargs):
        super().__init__(load_default=(), **kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, _attr, _data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValidationError("must be comma-separated values")
        unknown = [v for v in value if v not in self.choices]
        if unknown:
            raise ValidationError(
                f"unknown {', '.join(map(repr, unknown))}; one of {', '.join(self.choices)}"
            )
        return tuple(dict.fromkeys(value))


class _Args(Schema):
    @pre_load
    def _absent_when_null(self, data, **kwargs):
        # The gateway passes every query parameter, null (or blank) when not given.
        return {name: value for name, value in data.items() if value not in (None, "")}


class WindowArgs(_Args):
    period = fields.String(
        load_default=None,
        validate=validate.OneOf(tuple(PERIODS), error=f"must be one of {', '.join(PERIODS)}"),
    )
    since = Moment(load_default=None)
    until = Moment(load_default=None)

    @validates_schema
    def _one_way(self, data, **kwargs):
        if data.get("period") and (data.get("since") or data.get("until")):
            raise ValidationError("give period, or since and until, not both", "period")
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be later than since", "until")


class FeedArgs(WindowArgs):
    channel = Choices(vocab.ACTIVITY_CHANNELS)
    origin = Choices(vocab.ORIGINS)
    type = Choices(EVERY_TYPE)
    limit = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="must be between 1 and 200")
    )
    cursor = Text(load_default=None, max_length=200)


class SummaryArgs(_Args):
    period = fields.String(
        load_default="30d",
        validate=validate.OneOf(tuple(PERIODS), error=f"must be one of {', '.join(PERIODS)}"),
    )


class ExportPageArgs(_Args):
    size = fields.Integer(
        load_default=EXPORT_PAGE_LIMIT,
        validate=validate.Range(
            min=1, max=EXPORT_PAGE_LIMIT, error=f"must be between 1 and {EXPORT_PAGE_LIMIT}"
        ),
    )
    cursor = Text(load_default=None, max_length=200)


class DailyCountsArgs(_Args):
    size = fields.Integer(
        load_default=500,
        validate=validate.Range(min=1, max=1000, error="must be between 1 and 1000"),
    )
    cursor = Text(load_default=None, max_length=200)
