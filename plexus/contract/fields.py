"""Field types every contract uses: trimmed text without NUL characters, email, phone,
country, language, time zone, http(s) URL, strict booleans, base64url keys, and the
schema that refuses unknown fields by name; with the reference data they check against."""

from __future__ import annotations

import base64
import binascii
import re
import zoneinfo

import email_validator
import phonenumbers
import pycountry
from marshmallow import Schema, ValidationError, fields, validate

# ---------------------------------------------------------------- reference data

LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
# IANA names are matched without regard to case and stored as IANA spells them.
TIMEZONES = {name.lower(): name for name in zoneinfo.available_timezones()}
UTC_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
# Offsets in use run from -12:00 (Baker Island) to +14:00 (Line Islands).
OFFSET_RANGE_MINUTES = (-12 * 60, 14 * 60)


def describe(text: str, **extra) -> dict:
    return {"description": text, **extra}


# ---------------------------------------------------------------- field types


class Text(fields.String):
    """A string, trimmed. Where null is allowed, a blank string means null (an empty CSV
    column, a cleared form field). NUL characters are refused: PostgreSQL cannot store
    them."""

    def __init__(self, *, max_length: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        if max_length is not None:
            self.validators.append(validate.Length(max=max_length))

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, str):
            # The limit holds for the text as sent (the schema's maxLength), not only for
            # what is left once trimmed.
            if self.max_length is not None and len(value) > self.max_length:
                raise ValidationError(f"Longer than maximum length {self.max_length}.")
            value = value.strip()
            if not value and self.allow_none:
                value = None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text


class Email(Text):
    """Checked for syntax only (no DNS look-up) and stored lower-cased: addresses are
    matched without regard to case."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            checked = email_validator.validate_email(text, check_deliverability=False)
        except email_validator.EmailNotValidError as error:
            raise ValidationError(f"not a valid email address: {error}") from None
        return checked.normalized.lower()


def region_hint(data) -> str | None:
    """The region a national phone number is read in: `region`, else `address.country`."""
    if not isinstance(data, dict):
        return None
    region = data.get("region")
    if region is None and isinstance(data.get("address"), dict):
        region = data["address"].get("country")
    return region.strip().upper() if isinstance(region, str) and region.strip() else None


def normalise_phone(text: str, region: str | None) -> str:
    """E.164 for a number in international form, or in national form with its region."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        if region is None and not text.startswith("+"):
            raise ValidationError(
                "not an international number (+...); give `region` or `address.country` "
                "to read it as a national one"
            ) from None
        raise ValidationError("not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Phone(Text):
    """Any format the region allows; stored as E.164."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return normalise_phone(text, region_hint(data))


class CountryCode(Text):
    """ISO 3166-1 alpha-2, upper-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).upper()
        if code not in COUNTRIES:
            raise ValidationError("not an ISO 3166-1 alpha-2 country code")
        return code


class Language(Text):
    """ISO 639-1, lower-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).lower()
        if code not in LANGUAGES:
            raise ValidationError("not an ISO 639-1 language code")
        return code


def valid_utc_offset(text: str) -> bool:
    match = UTC_OFFSET.match(text)
    if not match:
        return False
    sign, hours, minutes = match.groups()
    if int(minutes) >= 60:
        return False
    total = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    return OFFSET_RANGE_MINUTES[0] <= total <= OFFSET_RANGE_MINUTES[1]


class TimeZone(Text):
    """An IANA name (as IANA spells it) or a UTC offset `+HH:MM` / `-HH:MM`."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.lower() in TIMEZONES:
            return TIMEZONES[text.lower()]
        if valid_utc_offset(text):
            return text
        raise ValidationError(
            "not an IANA time zone name (Europe/Kyiv) or a UTC offset from -12:00 to +14:00"
        )


class IanaTimeZone(Text):
    """An IANA time zone name only (Europe/Kyiv), matched without regard to case and
    given back as IANA spells it."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.lower() in TIMEZONES:
            return TIMEZONES[text.lower()]
        raise ValidationError("not an IANA time zone name (Europe/Kyiv, UTC)")


CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ClockTime(Text):
    """A time of day, `HH:MM` on the 24-hour clock."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not CLOCK_TIME.match(text):
            raise ValidationError("not a time of day HH:MM (00:00 to 23:59)")
        return text


class HttpUrl(Text):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.insert(
            0, validate.URL(schemes={"http", "https"}, error="not an http(s) URL")
        )


class StrictBoolean(fields.Boolean):
    """true or false only; not 1, "yes" or "on"."""

    def _deserialize(self, value, _attr, _data, **kwargs):
        if value is True or value is False:
            return value
        raise ValidationError("must be true or false")


class Base64UrlKey(Text):
    """A Web Push key: unpadded base64url (RFC 8291) of `size` bytes."""

    def __init__(self, *, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise ValidationError("not base64url") from None
        if len(raw) != self.size:
            raise ValidationError(f"must decode to {self.size} bytes")
        return text


class StrictSchema(Schema):
    """Unknown fields are refused by name; read-only resource fields say so."""

    read_only: tuple[str, ...] = ()

    def handle_error(self, error: ValidationError, data, *, many: bool, **kwargs):  # noqa: ARG002 marshmallow's signature
        messages = error.messages
        if isinstance(messages, dict):
            for name in self.read_only:
                if messages.get(name) == ["Unknown field."]:
                    messages[name] = ["read-only field"]


class Authored(Schema):
    """The authorship every account-wide definition shows (plexus.db.Authored)."""

    created_by = fields.String(
        required=True,
        allow_none=True,
        metadata=describe("Who created it: the API key's name, `cli` or `system`."),
    )
    updated_by = fields.String(
        required=True,
        allow_none=True,
        metadata=describe("Who made its latest change (null before any was recorded)."),
    )
