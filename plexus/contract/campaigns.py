"""The campaigns resources and their vocabulary: the campaigns service loads bodies with
the `*Input` / `*Patch` schemas, the gateway publishes all of them as OpenAPI.

A campaign sends one template (or, with `ab`, a test of several) over one channel to the
members of a segment, read when it starts."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.activity import Moment
from plexus.contract.fields import Authored, StrictSchema, Text

STATUSES = ("draft", "scheduled", "running", "paused", "finished", "cancelled")
# What the API may ask of a campaign, and the statuses each is allowed from
# (anything else is 409): services.campaigns.logic.states.
ACTIONS = ("start", "pause", "resume", "cancel")
AB_METRICS = ("open", "click")
# A recipient: `held` waits for an A/B test's winner, `pending` for its moment; then what
# messaging answered (`queued` or `refused`), then what the message did.
DISPATCH_STATUSES = ("held", "pending", "queued", "refused")
DELIVERY_STATUSES = ("sent", "delivered", "bounced", "failed")
RECIPIENT_STATUSES = DISPATCH_STATUSES + DELIVERY_STATUSES
# Why messaging refuses a member (messaging.queue_batch's reasons).
REFUSAL_REASONS = vocab.REFUSAL_REASONS
# The counters of `stats` besides audience, queued and refused.
EVENT_COUNTERS = ("sent", "delivered", "open", "click", "unsubscribed", "bounced")

NAME_MAX = 100
MAX_VARIANTS = 5
MAX_WAIT_HOURS = 720
MAX_THROTTLE = 1_000_000
LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _about(text: str) -> dict:
    return {"description": text}


class LocalTime(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not LOCAL_TIME.match(text):
            raise ValidationError("must be a time of day HH:MM, 00:00 to 23:59")
        return text


class Schedule(StrictSchema):
    at = Moment(
        allow_none=True,
        load_default=None,
        metadata=_about("RFC 3339; in the future, start makes the campaign `scheduled` until then"),
    )
    local_time = LocalTime(
        allow_none=True,
        load_default=None,
        metadata=_about(
            "HH:MM: each member's message goes at that time in the member's time zone "
            "(else the configured default), within the 24 hours after `at` (or the start)"
        ),
    )


class Variant(StrictSchema):
    name = Text(required=True, max_length=NAME_MAX)
    template_id = Text(required=True, max_length=26)


class AbTest(StrictSchema):
    variants = fields.List(
        fields.Nested(Variant),
        required=True,
        validate=validate.Length(min=2, max=MAX_VARIANTS, error="must hold 2 to 5 variants"),
    )
    test_fraction = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(
            min=0, max=1, min_inclusive=False, error="must be above 0 and at most 1"
        ),
        metadata=_about("the share of the audience split evenly between the variants"),
    )
    metric = fields.String(required=True, validate=validate.OneOf(AB_METRICS))
    wait_hours = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(
            min=0, max=MAX_WAIT_HOURS, error=f"must be between 0 and {MAX_WAIT_HOURS}"
        ),
        metadata=_about("after this, the variant with the best rate goes to the rest"),
    )

    @validates_schema
    def _names_differ(self, data, **kwargs):
        names = [variant["name"] for variant in data.get("variants") or []]
        if len(names) != len(set(names)):
            raise ValidationError("variant names must differ", "variants")


class CampaignInput(StrictSchema):
    name = Text(required=True, max_length=NAME_MAX)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    template_id = Text(
        required=True,
        max_length=26,
        metadata=_about("a template of `channel`; with `ab`, the variants' templates are sent"),
    )
    segment_id = Text(required=True, max_length=26)
    category = Text(
        allow_none=True,
        load_default=None,
        max_length=64,
        metadata=_about("members who have not opted in to it are refused (`category`)"),
    )
    schedule = fields.Nested(Schedule, load_default=dict)
    throttle_per_minute = fields.Integer(
        allow_none=True,
        load_default=None,
        strict=True,
        validate=validate.Range(
            min=1, max=MAX_THROTTLE, error=f"must be between 1 and {MAX_THROTTLE:,}"
        ),
    )
    ab = fields.Nested(AbTest, allow_none=True, load_default=None)


class CampaignPatch(CampaignInput):
    """Any field of a draft; the others keep their value."""

    name = Text(max_length=NAME_MAX)
    channel = fields.String(validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    template_id = Text(max_length=26)
    segment_id = Text(max_length=26)
    category = Text(allow_none=True, max_length=64)
    schedule = fields.Nested(Schedule)
    throttle_per_minute = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(
            min=1, max=MAX_THROTTLE, error=f"must be between 1 and {MAX_THROTTLE:,}"
        ),
    )
    ab = fields.Nested(AbTest, allow_none=True)


class VariantStats(StrictSchema):
    queued = fields.Integer()
    refused = fields.Integer(metadata=_about("members refused, every reason together"))
    sent = fields.Integer()
    delivered = fields.Integer()
    open = fields.Integer()
    click = fields.Integer()
    unsubscribed = fields.Integer()
    bounced = fields.Integer()
    open_rate = fields.Float(metadata=_about("open / sent; 0 before anything is sent"))
    click_rate = fields.Float(metadata=_about("click / sent; 0 before anything is sent"))


class Stats(StrictSchema):
    audience = fields.Integer(
        allow_none=True, metadata=_about("members read at the start; null while reading")
    )
    queued = fields.Integer()
    refused = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata=_about("members by reason")
    )
    sent = fields.Integer()
    delivered = fields.Integer()
    open = fields.Integer(metadata=_about("recipients who opened, each once"))
    click = fields.Integer(metadata=_about("recipients who clicked, each once"))
    unsubscribed = fields.Integer()
    bounced = fields.Integer()
    variants = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(VariantStats),
        metadata=_about(
            "A/B tests only: each variant's members (the winner's include the rest, once sent)"
        ),
    )


class Campaign(StrictSchema, Authored):
    id = fields.String()
    name = fields.String()
    channel = fields.String()
    template_id = fields.String()
    segment_id = fields.String()
    category = fields.String(allow_none=True)
    schedule = fields.Nested(Schedule)
    throttle_per_minute = fields.Integer(allow_none=True)
    ab = fields.Nested(AbTest, allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    stats = fields.Nested(Stats)
    winner = fields.String(allow_none=True, metadata=_about("the A/B variant sent to the rest"))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)


class Recipient(StrictSchema):
    contact_id = fields.String()
    variant = fields.String(allow_none=True)
    message_id = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(RECIPIENT_STATUSES))
    reason = fields.String(allow_none=True, metadata=_about("why messaging refused it"))
