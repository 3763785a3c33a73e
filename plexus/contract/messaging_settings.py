"""The messaging settings (GET / PUT /v1/settings/messaging): frequency caps and quiet
hours, which messaging applies to every campaign, A/B test and workflow message when it
queues it (never to a transactional one)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.fields import ClockTime, IanaTimeZone, StrictSchema, describe

# The origins the settings hold back; `transaction` (a receipt, a password reset) never.
LIMITED_ORIGINS = ("campaign", "ab_test", "workflow")
MAX_CAPS = 20
MAX_DAYS = 365


class FrequencyCap(StrictSchema):
    channel = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(vocab.MESSAGE_CHANNELS),
        metadata=describe("the channel it counts; none: messages on every channel"),
    )
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    per_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_DAYS)
    )


class QuietHours(StrictSchema):
    start = ClockTime(required=True, metadata=describe("HH:MM, the contact's local time"))
    end = ClockTime(required=True, metadata=describe("HH:MM; before start: past midnight"))

    @validates_schema
    def _a_window(self, data, **kwargs):
        if data.get("start") is not None and data.get("start") == data.get("end"):
            raise ValidationError("the quiet hours end when they start", "end")


class MessagingSettings(StrictSchema):
    frequency_caps = fields.List(
        fields.Nested(FrequencyCap),
        load_default=list,
        validate=validate.Length(max=MAX_CAPS),
        metadata=describe(
            "a campaign, A/B test or workflow message is refused (`frequency_cap`) to a "
            "contact who has had `max` of them (on `channel`, or on any) in the last "
            "`per_days` days"
        ),
    )
    quiet_hours = fields.Nested(
        QuietHours,
        allow_none=True,
        load_default=None,
        metadata=describe(
            "[start, end) in the contact's time zone (else default_timezone): such a message "
            "queued then waits until `end` (held_until)"
        ),
    )
    default_timezone = IanaTimeZone(load_default="UTC")


class MessagingSettingsResource(MessagingSettings):
    updated_at = fields.DateTime(allow_none=True, metadata=describe("null: never set"))
    updated_by = fields.String(
        allow_none=True, metadata=describe("the API key (or `cli`) that set them last")
    )
