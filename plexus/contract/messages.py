"""The public resources of the messaging service as marshmallow
schemas: the messaging service loads request bodies with the `*Input` schemas, the
gateway publishes all of them as OpenAPI."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.activity import ContactRef
from plexus.contract.fields import Authored, Language, StrictBoolean, StrictSchema, Text

# What a template or a message body may hold; a message is small.
BODY_LIMIT = 100_000
SUBJECT_LIMIT = 500
# Channels whose content is one body (everything but email).
BODY_CHANNELS = tuple(c for c in vocab.MESSAGE_CHANNELS if c != "email")


def _describe(text: str) -> dict:
    return {"description": text}


class MessageContent(StrictSchema):
    subject = Text(max_length=SUBJECT_LIMIT, allow_none=True)
    text = Text(max_length=BODY_LIMIT, allow_none=True)
    html = Text(max_length=BODY_LIMIT, allow_none=True)
    body = Text(max_length=BODY_LIMIT, allow_none=True)


class MessageInput(StrictSchema):
    contact = fields.Nested(ContactRef, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    origin = fields.String(load_default="transaction", validate=validate.OneOf(vocab.ORIGINS))
    category = Text(
        allow_none=True,
        load_default=None,
        max_length=64,
        metadata=_describe("refused (409) to a contact who has not opted in to it"),
    )
    template_id = Text(allow_none=True, load_default=None, max_length=26)
    content = fields.Nested(MessageContent, allow_none=True, load_default=None)
    data = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata=_describe("values for the template, as `{{ data.name }}`"),
    )

    @validates_schema
    def _template_or_content(self, data, **kwargs):
        if bool(data.get("template_id")) == bool(data.get("content")):
            raise ValidationError("give either template_id or content", "content")
        content = data.get("content") or {}
        if data.get("template_id"):
            return
        if data.get("channel") == "email":
            if not content.get("subject"):
                raise ValidationError("an email needs a subject", "content.subject")
            if not (content.get("text") or content.get("html")):
                raise ValidationError("an email needs text or html", "content.text")
        elif not (content.get("body") or content.get("text")):
            raise ValidationError("this channel needs a body", "content.body")


MAX_BATCH = 500  # messages a queue_batch call
KEY_LENGTH = 200


class BatchItem(StrictSchema):
    """One message of a queue_batch call (messaging's RPC for campaigns, A/B tests and
    workflows): a template rendered for the contact."""

    key = Text(
        required=True,
        validate=validate.Length(min=1, max=KEY_LENGTH),
        metadata=_describe(
            "unique per intended message (campaign:<campaign_id>:<contact_id>): the same key "
            "again answers the message stored under it and queues nothing"
        ),
    )
    contact_id = Text(required=True, max_length=26)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    template_id = Text(required=True, max_length=26)
    origin = fields.String(required=True, validate=validate.OneOf(vocab.ORIGINS))
    category = Text(allow_none=True, load_default=None, max_length=64)
    trigger = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        load_default=None,
        metadata=_describe("what caused the message: {campaign_id, variant?}, {workflow_id...}"),
    )
    data = fields.Dict(keys=fields.String(), load_default=dict)


class BatchInput(StrictSchema):
    items = fields.List(
        fields.Nested(BatchItem),
        required=True,
        validate=validate.Length(max=MAX_BATCH),
    )

    @validates_schema
    def _keys_once(self, data, **kwargs):
        seen: set[str] = set()
        for index, item in enumerate(data.get("items") or ()):
            if item["key"] in seen:
                raise ValidationError("the same key twice in one batch", f"items.{index}.key")
            seen.add(item["key"])


class Queued(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata=_describe("queued"))


class StatusEntry(Schema):
    status = fields.String(
        required=True,
        metadata=_describe(
            "queued, sent, or an activity type of the channel (delivered, open, click...)"
        ),
    )
    at = fields.DateTime(required=True)
    details = fields.Dict(required=True)


class Message(Schema):
    id = fields.String(required=True)
    contact_id = fields.String(required=True)
    channel = fields.String(required=True)
    origin = fields.String(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    template_id = fields.String(required=True, allow_none=True)
    resend_of = fields.String(required=True, allow_none=True)
    purpose = fields.String(
        required=True,
        allow_none=True,
        metadata=_describe(
            "null for the business's messages; `confirmation` for the subscription form's "
            "confirmation email (sent before the address is subscribed)"
        ),
    )
    trigger = fields.Dict(
        required=True,
        allow_none=True,
        metadata=_describe(
            "what caused the message: null for a message sent through this API; "
            "{campaign_id, variant?} for a campaign or an A/B test, {workflow_id, run_id, step, "
            "cause} for a workflow"
        ),
    )
    status = fields.String(required=True, metadata=_describe("the latest status"))
    content = fields.Nested(MessageContent, required=True, metadata=_describe("as rendered"))
    created_at = fields.DateTime(required=True)
    history = fields.List(fields.Nested(StatusEntry), required=True)


MAX_TRANSLATIONS = 50


class Translation(StrictSchema):
    subject = Text(
        allow_none=True,
        load_default=None,
        max_length=SUBJECT_LIMIT,
        metadata=_describe("email: the subject in this language (else the template's)"),
    )
    body = Text(required=True, max_length=BODY_LIMIT)


def _translations(**kwargs) -> fields.Dict:
    return fields.Dict(
        keys=Language(),
        values=fields.Nested(Translation),
        validate=validate.Length(max=MAX_TRANSLATIONS),
        metadata=_describe(
            "{language (ISO 639-1, as a contact's `language`): {subject?, body}}: a contact "
            "whose language has one is sent it, any other the template's own text"
        ),
        **kwargs,
    )


class TemplateInput(StrictSchema):
    name = Text(required=True, max_length=200)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    subject = Text(allow_none=True, load_default=None, max_length=SUBJECT_LIMIT)
    body = Text(
        required=True,
        max_length=BODY_LIMIT,
        metadata=_describe(
            "Jinja syntax: `{{ first_name }}`, `{{ data.order_id }}`; HTML for email"
        ),
    )
    translations = _translations(load_default=dict)
    approved = StrictBoolean(
        load_default=False,
        metadata=_describe(
            "viber sends approved templates only; setting it needs the `admin` scope (403 "
            "naming `approved` otherwise)"
        ),
    )


class TemplateUpdate(StrictSchema):
    name = Text(max_length=200)
    subject = Text(allow_none=True, max_length=SUBJECT_LIMIT)
    body = Text(max_length=BODY_LIMIT)
    translations = _translations()
    approved = StrictBoolean(
        metadata=_describe(
            "needs the `admin` scope (403 naming `approved` otherwise); a change of an "
            "approved template's subject, body or translations withdraws its approval unless "
            "it sets `approved` again"
        )
    )


class Template(Authored):
    id = fields.String(required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True)
    subject = fields.String(required=True, allow_none=True)
    body = fields.String(required=True)
    translations = fields.Dict(required=True)
    approved = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


# What a web push's service worker reports on its notification (POST /t/p/{token}).
PUSH_EVENTS = ("delivered", "open", "click", "dismissed")


class PushReport(StrictSchema):
    event = fields.String(
        required=True,
        validate=validate.OneOf(PUSH_EVENTS),
        metadata={"description": "`click` records `open` with it"},
    )


class PushReported(Schema):
    message_id = fields.String(required=True)
    event = fields.String(required=True)
    recorded = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the statuses newly recorded: none when reported before"},
    )
