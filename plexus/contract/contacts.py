"""The public resources of the contacts service as marshmallow schemas.

The contacts service loads request bodies with the `*Input`, `ContactCreate`,
`ContactUpdate` and `ContactBatch` schemas; the gateway publishes every schema here as
OpenAPI. Format rules live here; rules that need the database (a registered source, a
defined variable, an identifier that belongs to another contact) are the service's.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from plexus.contract import vocab
from plexus.contract.fields import (
    Authored,
    Base64UrlKey,
    CountryCode,
    Email,
    HttpUrl,
    Language,
    Phone,
    StrictBoolean,
    StrictSchema,
    Text,
    TimeZone,
    describe,
)
from plexus.timeutil import utcnow

# Variable names appear in messages as `{{ name }}`; category names as `categories.name`
# and in error paths, so neither may hold a dot.
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
NAME_RULE = "lower-case letters, digits and _, starting with a letter, at most 64"
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CATEGORY_RULE = "lower-case letters, digits, _ and -, at most 64"

IDENTIFIERS = ("user_id", "email", "phone")
READ_ONLY_CONTACT_FIELDS = (
    "id",
    "age",
    "status",
    "created_via",
    "blacklists",
    "subscriptions",
    "channels",
    "created_at",
    "updated_at",
)
ADDRESS_FIELDS = ("country", "region", "city", "street", "postcode")
# The contact's own fields as a message can use them, in resource order; address parts
# are separate so that a template can say `{{ address.city }}`.
MESSAGE_FIELDS = (
    "id",
    "user_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "gender",
    "language",
    "timezone",
    "source",
    "avatar_url",
    *(f"address.{part}" for part in ADDRESS_FIELDS),
    "contact_score",
    "status",
    "created_at",
    "updated_at",
)
READ_ONLY_MESSAGE_FIELDS = frozenset({"id", "status", "created_at", "updated_at"})
# The part of a contact resource that deciding and addressing a send reads (messaging's
# eligibility, translations, frequency caps and quiet hours): what contacts_for_sending
# answers, where a campaign batch would otherwise carry every contact's whole resource.
SENDING_FIELDS = (
    "id",
    "status",
    "email",
    "phone",
    "language",
    "timezone",
    "subscriptions",
    "blacklists",
    "categories",
    "channels",
)
# A custom variable must not shadow a contact field in a template.
RESERVED_VARIABLE_NAMES = frozenset(
    {
        "id",
        "address",
        "categories",
        "variables",
        "blacklists",
        "subscriptions",
        "channels",
        *MESSAGE_FIELDS,
    }
)

BATCH_LIMIT = 1000


class CategoryChoices(fields.Dict):
    """{category name: true|false}; each bad entry is reported as `categories.<name>`."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=StrictBoolean(), **kwargs)

    def _deserialize(self, value, _attr, _data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("must be an object of category name: true|false")
        errors = {
            name: ["must be true or false"]
            for name, choice in value.items()
            if not isinstance(choice, bool)
        }
        if errors:
            raise ValidationError(errors)
        return dict(value)


class VariableValues(fields.Dict):
    """{variable name: value}; the values are checked against the definitions by the
    service. null removes the contact's value."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Raw(allow_none=True), **kwargs)


class Birthday(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        # The latest date anywhere on Earth: someone born today at UTC+14 is not "future".
        if day > (utcnow() + timedelta(hours=14)).date():
            raise ValidationError("must not be in the future")
        return day


# ---------------------------------------------------------------- variable values


def variable_value_error(kind: str, value) -> str | None:
    """Why `value` cannot be held by a variable of type `kind`, or None if it can."""
    if kind == "string":
        ok = isinstance(value, str) and "\x00" not in value and len(value) <= 10_000
        return None if ok else "must be a string (at most 10,000 characters)"
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        try:
            return None if math.isfinite(float(value)) else "must be a finite number"
        except OverflowError:
            return "must be a finite number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "must be a date YYYY-MM-DD"
    return f"unknown variable type {kind!r}"


# ---------------------------------------------------------------- input schemas


class Address(StrictSchema):
    country = CountryCode(allow_none=True, metadata=describe("ISO 3166-1 alpha-2, e.g. UA"))
    region = Text(allow_none=True, max_length=100, metadata=describe("state, oblast"))
    city = Text(allow_none=True, max_length=100)
    street = Text(allow_none=True, max_length=200)
    postcode = Text(allow_none=True, max_length=20)

    @post_load
    def _every_part(self, data, **kwargs):
        # An address is replaced as a whole: the parts not given are cleared.
        return {part: data.get(part) for part in ADDRESS_FIELDS}


class _ContactFields(StrictSchema):
    read_only = READ_ONLY_CONTACT_FIELDS

    user_id = Text(
        allow_none=True,
        max_length=255,
        metadata=describe("The customer's own id for this contact; unique."),
    )
    email = Email(
        allow_none=True,
        metadata=describe("Unique without regard to case; stored lower-cased.", format="email"),
    )
    phone = Phone(
        allow_none=True,
        metadata=describe(
            "Unique; stored as E.164 (+380501234567). A national number is read in `region`, "
            "else in `address.country`."
        ),
    )
    region = CountryCode(
        allow_none=True,
        metadata=describe("ISO 3166-1 alpha-2 to read a national `phone` in; not stored."),
    )
    first_name = Text(allow_none=True, max_length=100)
    last_name = Text(allow_none=True, max_length=100)
    birthday = Birthday(allow_none=True, metadata=describe("YYYY-MM-DD, not in the future."))
    gender = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.OneOf(vocab.GENDERS),
        metadata=describe(
            "ISO/IEC 5218: 0 not known (default; null sets it), 1 male, "
            "2 female, 9 not applicable.",
            enum=list(vocab.GENDERS),
        ),
    )
    language = Language(allow_none=True, metadata=describe("ISO 639-1, e.g. uk, en."))
    timezone = TimeZone(
        allow_none=True,
        metadata=describe("IANA name (Europe/Kyiv) or UTC offset from -12:00 to +14:00 (+02:00)."),
    )
    source = Text(
        allow_none=True,
        max_length=100,
        metadata=describe("A registered acquisition source (/v1/sources)."),
    )
    avatar_url = HttpUrl(
        allow_none=True,
        max_length=2048,
        metadata={
            "format": "uri",
            "description": "An http(s) URL; null or a blank string clears it.",
        },
    )
    address = fields.Nested(Address, allow_none=True, metadata=describe("Replaced as a whole."))
    categories = CategoryChoices(
        allow_none=True,
        metadata=describe(
            "Opt-in per registered subscription category. On update, the names given are "
            "changed and the others kept."
        ),
    )
    contact_score = fields.Float(
        allow_nan=False, allow_none=True, metadata=describe("Default 0 (null sets it).")
    )
    variables = VariableValues(
        allow_none=True,
        metadata=describe(
            "Values of defined contact variables (/v1/variables), checked against their type. "
            "On update, the names given are changed (null removes one) and the others kept."
        ),
    )


class ContactCreate(_ContactFields):
    """A new contact. At least one of user_id, email, phone."""


class ContactUpdate(_ContactFields):
    """PATCH: only the fields given change; null clears a field. id, status, blacklists,
    subscriptions, channels, created_at and updated_at are read-only here."""


class ContactBatch(StrictSchema):
    contacts = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(
            min=1, max=BATCH_LIMIT, error=f"between 1 and {BATCH_LIMIT:,} contacts"
        ),
        metadata=describe(
            "Contacts as in ContactCreate. Each is matched by user_id, else email, else "
            "phone, then created or updated (as a PATCH of the fields given), and validated "
            "on its own: one bad item never fails the others."
        ),
    )


class BlacklistInput(StrictSchema):
    reason = Text(allow_none=True, max_length=500, load_default=None)


VIBER_USER_ID = validate.Length(min=1, max=100)
# An FCM registration token is about 160 characters; the column leaves room.
APP_PUSH_TOKEN_LENGTH = 1024
# Each black list's addresses, read as the contact's own address of that kind is read, so
# that an entry and a contact's address compare equal: an email lower-cased, a phone in
# E.164 (international form: there is no region to read a national one in), a Viber id.
BLACKLIST_VALUES = {
    "email": Email(),
    "phone": Phone(),
    "viber": Text(validate=VIBER_USER_ID),
}


def blacklist_value(list_name: str, value) -> str:
    """The address as the black list `list_name` holds it; ValidationError if it is none."""
    return BLACKLIST_VALUES[list_name].deserialize(value)


def _settable_subscription_status(status: str) -> None:
    if status == "never":
        raise ValidationError("never cannot be set: it means never subscribed")
    if status not in ("subscribed", "unsubscribed"):
        raise ValidationError("must be subscribed or unsubscribed")


class SubscriptionInput(StrictSchema):
    status = fields.String(
        required=True,
        validate=_settable_subscription_status,
        metadata=describe(
            "subscribed or unsubscribed. telegram, viber, webpush_* and app_push may "
            "be subscribed by hand only if they were subscribed before.",
            enum=["subscribed", "unsubscribed"],
        ),
    )
    reason = Text(allow_none=True, max_length=500, load_default=None)


class TelegramChatId(Text):
    """Telegram chat ids are integers; given as a number or a string, kept as a string."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super().deserialize(value, attr, data, **kwargs)


class TelegramAddressInput(StrictSchema):
    chat_id = TelegramChatId(
        required=True,
        validate=validate.Regexp(r"^-?\d{1,20}$", error="must be a Telegram chat id (an integer)"),
        metadata={
            "description": "The chat id the bot received: a number, or its digits as a "
            "string (kept as a string).",
            "type": ["string", "integer"],
        },
    )


class ViberAddressInput(StrictSchema):
    user_id = Text(
        required=True,
        validate=VIBER_USER_ID,
        metadata=describe("The Viber user id the bot received."),
    )


class AppPushTokenInput(StrictSchema):
    token = Text(
        required=True,
        validate=validate.Length(min=1, max=APP_PUSH_TOKEN_LENGTH),
        metadata=describe(
            "The device's FCM registration token, as the app's Firebase SDK gives it. "
            "A contact has at most 10 tokens; the same token again changes nothing."
        ),
    )
    platform = fields.String(
        required=True,
        validate=validate.OneOf(vocab.APP_PUSH_PLATFORMS),
        metadata=describe("android or ios.", enum=list(vocab.APP_PUSH_PLATFORMS)),
    )
    app = Text(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata=describe("The app's id, e.g. its package name (com.example.shop)."),
    )


class WebpushKeys(StrictSchema):
    p256dh = Base64UrlKey(
        size=65, required=True, metadata=describe("The browser's P-256 public key, base64url.")
    )
    auth = Base64UrlKey(
        size=16, required=True, metadata=describe("The 16-byte auth secret, base64url.")
    )


class WebpushSubscriptionInput(StrictSchema):
    endpoint = HttpUrl(
        required=True,
        max_length=2048,
        metadata=describe(
            "The push service URL from PushSubscription.endpoint: https, on one of the "
            "push services the deployment allows (by default the browsers' own: FCM, "
            "Mozilla, Windows, Apple; README: PLEXUS_WEBPUSH_PUSH_SERVICES). A contact has "
            "at most 10 subscriptions.",
            format="uri",
        ),
    )
    keys = fields.Nested(WebpushKeys, required=True)
    device = fields.String(
        required=True,
        validate=validate.OneOf(vocab.WEBPUSH_DEVICES),
        metadata=describe(
            "desktop or mobile: the channel it serves.", enum=list(vocab.WEBPUSH_DEVICES)
        ),
    )


class NoteInput(StrictSchema):
    content = Text(required=True, validate=validate.Length(min=1, max=500))


class VariableInput(StrictSchema):
    name = fields.String(required=True, validate=validate.Regexp(NAME_PATTERN, error=NAME_RULE))
    type = fields.String(required=True, validate=validate.OneOf(vocab.VARIABLE_TYPES))
    scope = fields.String(
        load_default="contact",
        validate=validate.OneOf(vocab.VARIABLE_SCOPES),
        metadata=describe(
            "contact (default): a value per contact; account: one value for all contacts."
        ),
    )
    value = fields.Raw(
        allow_none=True,
        load_default=None,
        metadata=describe("Account variables only: the value, of the variable's type."),
    )

    @validates_schema
    def _value_fits(self, data, **kwargs):
        if data.get("name") in RESERVED_VARIABLE_NAMES:
            raise ValidationError("is a contact field", "name")
        problem = definition_value_error(data.get("scope"), data.get("type"), data.get("value"))
        if problem:
            raise ValidationError(problem, "value")


def definition_value_error(scope: str | None, kind: str | None, value) -> str | None:
    """Why a definition cannot carry `value`, or None if it can (null always can)."""
    if value is None or kind is None:
        return None
    if scope != "account":
        return "only account variables carry a value"
    return variable_value_error(kind, value)


class VariableUpdate(StrictSchema):
    """An account variable's value; a variable's type while no contact holds a value."""

    read_only = ("name", "scope", "created_at", "updated_at")

    type = fields.String(validate=validate.OneOf(vocab.VARIABLE_TYPES))
    value = fields.Raw(allow_none=True)


class SourceInput(StrictSchema):
    # One line: a source's name is a label, shown in lists and in its URL.
    name = Text(
        required=True,
        validate=[
            validate.Length(min=1, max=100),
            validate.Regexp(
                r"^[^\x00-\x1f\x7f]*$", error="must be one line of text, without control characters"
            ),
        ],
    )


class CategoryInput(StrictSchema):
    name = fields.String(
        required=True, validate=validate.Regexp(CATEGORY_PATTERN, error=CATEGORY_RULE)
    )
    description = Text(allow_none=True, max_length=500, load_default=None)


# ---------------------------------------------------------------- resources (answers)


class BlacklistEntry(Schema):
    """The contact's current address of that list is on it (whoever put it there)."""

    since = fields.DateTime(
        required=True, metadata=describe("When the address was put on the list.")
    )
    reason = fields.String(required=True, allow_none=True)


class BlacklistedAddress(Schema):
    """An address on one of the account's black lists."""

    value = fields.String(
        required=True,
        metadata=describe(
            "The address: an email (lower-cased), an E.164 phone, or a Viber user id."
        ),
    )
    added_at = fields.DateTime(required=True)
    reason = fields.String(required=True, allow_none=True)
    source = fields.String(
        required=True,
        validate=validate.OneOf(vocab.BLACKLIST_SOURCES),
        metadata=describe(
            "manual: put there through the API; hard_bounce, complaint: "
            "by a provider's report; erased: the address of an erased "
            "contact, listed again when a new contact took it.",
            enum=list(vocab.BLACKLIST_SOURCES),
        ),
    )


class Blacklists(Schema):
    email = fields.Nested(BlacklistEntry, required=True, allow_none=True)
    phone = fields.Nested(BlacklistEntry, required=True, allow_none=True)
    viber = fields.Nested(BlacklistEntry, required=True, allow_none=True)


class SubscriptionState(Schema):
    status = fields.String(required=True, validate=validate.OneOf(vocab.SUBSCRIPTION_STATUSES))
    changed_at = fields.DateTime(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


Subscriptions = Schema.from_dict(
    {
        channel: fields.Nested(SubscriptionState, required=True)
        for channel in vocab.MESSAGE_CHANNELS
    },
    name="Subscriptions",
)


class TelegramAddress(Schema):
    chat_id = fields.String(required=True)


class ViberAddress(Schema):
    user_id = fields.String(required=True)


class AppPushChannel(Schema):
    id = fields.String(required=True)
    platform = fields.String(required=True, validate=validate.OneOf(vocab.APP_PUSH_PLATFORMS))
    app = fields.String(required=True)
    token = fields.String(required=True)


class WebpushChannel(Schema):
    id = fields.String(required=True)
    device = fields.String(required=True, validate=validate.OneOf(vocab.WEBPUSH_DEVICES))
    endpoint = fields.String(required=True)


class Channels(Schema):
    telegram = fields.Nested(TelegramAddress, required=True, allow_none=True)
    viber = fields.Nested(ViberAddress, required=True, allow_none=True)
    webpush = fields.List(fields.Nested(WebpushChannel), required=True)
    app_push = fields.List(fields.Nested(AppPushChannel), required=True)


class StoredAddress(Schema):
    country = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)
    street = fields.String(required=True, allow_none=True)
    postcode = fields.String(required=True, allow_none=True)


class Contact(Schema):
    """A contact as stored."""

    id = fields.String(required=True, metadata=describe("Server-made, immutable."))
    user_id = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True, metadata=describe("E.164"))
    first_name = fields.String(required=True, allow_none=True)
    last_name = fields.String(required=True, allow_none=True)
    birthday = fields.Date(required=True, allow_none=True)
    gender = fields.Integer(required=True, validate=validate.OneOf(vocab.GENDERS))
    language = fields.String(required=True, allow_none=True)
    timezone = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, allow_none=True)
    avatar_url = fields.String(required=True, allow_none=True)
    address = fields.Nested(StoredAddress, required=True, allow_none=True)
    categories = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True)
    contact_score = fields.Float(required=True)
    variables = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    age = fields.Integer(
        required=True,
        allow_none=True,
        metadata=describe(
            "Read-only: whole years since `birthday` today (UTC); null without a birthday."
        ),
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(vocab.CONTACT_STATUSES),
        metadata=describe("inactive contacts are sent nothing"),
    )
    created_via = fields.String(
        required=True,
        validate=validate.OneOf(vocab.CREATED_VIA),
        metadata=describe(
            "Read-only: how the contact arrived: `api` (POST /v1/contacts), `import` "
            "(POST /v1/contacts/batch, `plexus import`), `event` or `order` (one naming "
            "a contact not yet known), `form` (the subscription form)."
        ),
    )
    blacklists = fields.Nested(
        Blacklists,
        required=True,
        metadata=describe(
            "Each black list the contact's current address of it (email, phone, Viber user id) "
            "is on, whoever put it there (/v1/blacklists); null where it is not. Changing the "
            "address changes it."
        ),
    )
    subscriptions = fields.Nested(Subscriptions, required=True)
    channels = fields.Nested(Channels, required=True)
    created_at = fields.DateTime(
        required=True, metadata=describe("When it entered the contact list.")
    )
    updated_at = fields.DateTime(required=True, metadata=describe("Last change by API or import."))


class BatchItemResult(Schema):
    index = fields.Integer(required=True, metadata=describe("Position in `contacts`."))
    status = fields.String(required=True, validate=validate.OneOf(["created", "updated", "error"]))
    id = fields.String(required=True, allow_none=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        allow_none=True,
        metadata=describe("field path: messages, when status is error"),
    )


class BatchResult(Schema):
    results = fields.List(fields.Nested(BatchItemResult), required=True)


class AppPushToken(AppPushChannel):
    created_at = fields.DateTime(required=True)


class WebpushSubscription(Schema):
    id = fields.String(required=True)
    device = fields.String(required=True, validate=validate.OneOf(vocab.WEBPUSH_DEVICES))
    endpoint = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class Note(Schema):
    id = fields.String(required=True)
    content = fields.String(required=True)
    author = fields.String(required=True, metadata=describe("The API key's name."))
    created_at = fields.DateTime(required=True)


class Variable(Authored):
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(vocab.VARIABLE_TYPES))
    scope = fields.String(required=True, validate=validate.OneOf(vocab.VARIABLE_SCOPES))
    value = fields.Raw(
        required=True,
        allow_none=True,
        metadata=describe(
            "Account variables: the value for all contacts; contact variables: null."
        ),
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ContactVariable(Schema):
    name = fields.String(
        required=True,
        metadata=describe("As a template uses it: first_name, address.city, plan, categories.news"),
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["field", "variable", "list", "account"]),
        metadata=describe(
            "field: a contact field; variable: a contact variable; list: a subscription "
            "category; account: an account variable"
        ),
    )
    value = fields.Raw(required=True, allow_none=True)
    editable = fields.Boolean(
        required=True, metadata=describe("Whether it can be changed on the contact.")
    )


class Source(Authored):
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class Category(Authored):
    name = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class SubscriptionHistoryEntry(Schema):
    """One entry of the consent ledger."""

    id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(vocab.MESSAGE_CHANNELS))
    status = fields.String(required=True, validate=validate.OneOf(vocab.SUBSCRIPTION_STATUSES))
    previous_status = fields.String(
        required=True, validate=validate.OneOf(vocab.SUBSCRIPTION_STATUSES)
    )
    reason = fields.String(required=True, allow_none=True)
    actor = fields.String(required=True, metadata=describe("Who made the change."))
    changed_at = fields.DateTime(required=True)
