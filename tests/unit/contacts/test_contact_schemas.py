"""The public schemas (plexus.contract.contacts) as the service reads bodies with them:
every format rule of a contact, and errors named by dotted path."""

from datetime import timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plexus.contract.contacts import (
    ContactBatch,
    ContactCreate,
    ContactUpdate,
    SourceInput,
    SubscriptionInput,
    TelegramAddressInput,
    VariableInput,
    VariableUpdate,
    WebpushSubscriptionInput,
)
from plexus.errors import Invalid
from plexus.parsing import flatten, load
from plexus.timeutil import utcnow


def errors_of(schema, data) -> dict:
    with pytest.raises(Invalid) as caught:
        load(schema, data)
    return caught.value.errors


def test_a_national_phone_is_read_in_the_region_given():
    contact = load(ContactCreate(), {"phone": "050 123 4567", "region": "UA"})
    assert contact["phone"] == "+380501234567"


def test_a_national_phone_is_read_in_the_address_country_without_a_region():
    contact = load(ContactCreate(), {"phone": "(050) 123-45-67", "address": {"country": "ua"}})
    assert contact["phone"] == "+380501234567"
    assert contact["address"] == {
        "country": "UA",
        "region": None,
        "city": None,
        "street": None,
        "postcode": None,
    }


def test_region_wins_over_the_address_country():
    contact = load(
        ContactCreate(), {"phone": "202-555-0143", "region": "US", "address": {"country": "UA"}}
    )
    assert contact["phone"] == "+12025550143"


@pytest.mark.parametrize(
    "phone, region",
    [
        ("12", None),
        ("050 123 4567", None),
        ("+380 12", None),
        ("not a number", "UA"),
        ("+999 123 456 789", None),
    ],
)
def test_an_invalid_phone_is_named(phone, region):
    body = {"phone": phone} if region is None else {"phone": phone, "region": region}
    assert "phone" in errors_of(ContactCreate(), body)


def test_an_unknown_region_is_named():
    assert "region" in errors_of(ContactCreate(), {"phone": "0501234567", "region": "QQ"})


# Numbers of many countries, written the ways people write them.
@settings(max_examples=150, deadline=None)
@given(
    region=st.sampled_from(["UA", "US", "GB", "DE", "FR", "PL", "IN", "BR", "JP", "AU"]),
    style=st.sampled_from(
        ["national", "international", "e164", "rfc3966", "spaced", "dashed", "dotted"]
    ),
    padding=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_every_format_of_one_number_normalises_to_the_same_e164(region, style, padding):
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = phonenumbers.national_significant_number(number)
    written = {
        "national": national,
        "international": phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
        "e164": e164,
        "rfc3966": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966),
        "spaced": " ".join([e164[:4], e164[4:7], e164[7:]]),
        "dashed": f"+{number.country_code}-{digits[:3]}-{digits[3:]}",
        "dotted": f"+{number.country_code}.{digits[:3]}.{digits[3:]}",
    }[style]
    assert (
        load(ContactCreate(), {"phone": padding + written + padding, "region": region})["phone"]
        == e164
    )


def test_email_is_checked_and_stored_lower_cased():
    assert (
        load(ContactCreate(), {"email": "  Olena.K@Example.COM "})["email"] == "olena.k@example.com"
    )
    assert "email" in errors_of(ContactCreate(), {"email": "not-an-email"})
    assert "email" in errors_of(ContactCreate(), {"email": 5})


def test_blank_identifiers_mean_null():
    assert load(ContactCreate(), {"user_id": "  ", "email": "", "phone": " "}) == {
        "user_id": None,
        "email": None,
        "phone": None,
    }


def test_strings_are_trimmed():
    contact = load(ContactCreate(), {"user_id": " u-1 ", "first_name": "  Olena "})
    assert contact == {"user_id": "u-1", "first_name": "Olena"}


def test_language_is_an_iso_639_1_code_from_the_real_list():
    assert load(ContactCreate(), {"language": "UK"})["language"] == "uk"
    assert load(ContactCreate(), {"language": "yo"})["language"] == "yo"
    for bad in ("xx", "ukr", "u", "qq"):
        assert "language" in errors_of(ContactCreate(), {"language": bad}), bad


@pytest.mark.parametrize(
    "given, stored",
    [
        ("Europe/Kyiv", "Europe/Kyiv"),
        ("europe/kyiv", "Europe/Kyiv"),
        ("UTC", "UTC"),
        ("+02:00", "+02:00"),
        ("-05:30", "-05:30"),
        ("+14:00", "+14:00"),
        ("-12:00", "-12:00"),
    ],
)
def test_timezone_is_an_iana_name_or_an_offset(given, stored):
    assert load(ContactCreate(), {"timezone": given})["timezone"] == stored


@pytest.mark.parametrize("bad", ["Mars/Base", "+15:00", "-12:30", "+02:60", "2:00", "+0200"])
def test_a_bad_timezone_is_named(bad):
    assert "timezone" in errors_of(ContactCreate(), {"timezone": bad})


def test_birthday_is_a_date_not_in_the_future():
    assert load(ContactCreate(), {"birthday": "1990-04-01"})["birthday"].isoformat() == "1990-04-01"
    tomorrow_everywhere = (utcnow() + timedelta(days=2)).date().isoformat()
    assert errors_of(ContactCreate(), {"birthday": tomorrow_everywhere})["birthday"] == [
        "must not be in the future"
    ]
    assert "birthday" in errors_of(ContactCreate(), {"birthday": "1990-13-01"})


def test_gender_is_iso_5218():
    for gender in (0, 1, 2, 9):
        assert load(ContactCreate(), {"gender": gender})["gender"] == gender
    for bad in (3, "1", True, 1.5):
        assert "gender" in errors_of(ContactCreate(), {"gender": bad}), bad


def test_avatar_url_is_http_or_https():
    assert load(ContactCreate(), {"avatar_url": "https://cdn.example.com/a.png"})
    for bad in ("ftp://cdn.example.com/a.png", "javascript:alert(1)", "/a.png"):
        assert "avatar_url" in errors_of(ContactCreate(), {"avatar_url": bad}), bad


def test_address_country_is_iso_3166_and_parts_are_bounded():
    errors = errors_of(
        ContactCreate(), {"address": {"country": "Ukraine", "city": "K" * 101, "planet": "Earth"}}
    )
    assert set(errors) == {"address.country", "address.city", "address.planet"}


def test_names_are_at_most_100_characters():
    assert load(ContactCreate(), {"first_name": "A" * 100})
    assert "last_name" in errors_of(ContactCreate(), {"last_name": "A" * 101})


def test_category_choices_are_booleans():
    errors = errors_of(ContactCreate(), {"categories": {"newsletter": True, "offers": "yes"}})
    assert errors == {"categories.offers": ["must be true or false"]}


def test_numbers_that_json_cannot_hold_are_refused():
    errors = errors_of(ContactCreate(), {"contact_score": float("nan"), "gender": 10**400})
    assert set(errors) == {"contact_score", "gender"}
    assert "contact_score" in errors_of(ContactCreate(), {"contact_score": 10**400})


def test_nul_characters_are_refused():
    assert "first_name" in errors_of(ContactCreate(), {"first_name": "a\x00b"})


def test_unknown_fields_are_named():
    assert errors_of(ContactCreate(), {"email": "a@b.co", "shoe_size": 44}) == {
        "shoe_size": ["Unknown field."]
    }


@pytest.mark.parametrize("schema", [ContactCreate, ContactUpdate])
@pytest.mark.parametrize(
    "field", ["id", "status", "blacklists", "subscriptions", "channels", "created_at", "updated_at"]
)
def test_read_only_fields_are_refused_as_such(schema, field):
    assert errors_of(schema(), {field: None}) == {field: ["read-only field"]}


def test_a_batch_holds_one_to_a_thousand_contacts():
    assert "contacts" in errors_of(ContactBatch(), {"contacts": []})
    assert "contacts" in errors_of(ContactBatch(), {"contacts": [{}] * 1001})
    assert "contacts" in errors_of(ContactBatch(), {"contacts": {"email": "a@b.co"}})
    assert len(load(ContactBatch(), {"contacts": [{}] * 1000})["contacts"]) == 1000


def test_errors_are_flattened_to_dotted_paths_with_list_indices():
    messages = {
        "contacts": {3: {"email": ["bad"], "address": {"country": ["worse"]}}},
        "_schema": ["whole"],
        "name": ["a", "b"],
    }
    assert flatten(messages) == {
        "contacts.3.email": ["bad"],
        "contacts.3.address.country": ["worse"],
        "_schema": ["whole"],
        "name": ["a", "b"],
    }
    assert flatten(["x"], "phone") == {"phone": ["x"]}


def test_subscription_status_is_subscribed_or_unsubscribed():
    assert load(SubscriptionInput(), {"status": "subscribed"}) == {
        "status": "subscribed",
        "reason": None,
    }
    assert "status" in errors_of(SubscriptionInput(), {"status": "never"})
    assert "status" in errors_of(SubscriptionInput(), {"status": "maybe"})
    assert "status" in errors_of(SubscriptionInput(), {})


def test_telegram_chat_ids_are_integers_kept_as_strings():
    assert load(TelegramAddressInput(), {"chat_id": -100123})["chat_id"] == "-100123"
    assert load(TelegramAddressInput(), {"chat_id": " 42 "})["chat_id"] == "42"
    assert "chat_id" in errors_of(TelegramAddressInput(), {"chat_id": "@someone"})


P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


def test_webpush_keys_must_be_a_p256_key_and_a_16_byte_secret():
    good = {
        "endpoint": "https://push.example.net/s/1",
        "device": "mobile",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    assert load(WebpushSubscriptionInput(), good)["device"] == "mobile"
    bad = {**good, "device": "watch", "keys": {"p256dh": "abc", "auth": "!!"}}
    assert set(errors_of(WebpushSubscriptionInput(), bad)) == {"device", "keys.p256dh", "keys.auth"}


def test_variable_definitions():
    assert load(VariableInput(), {"name": "plan", "type": "string"}) == {
        "name": "plan",
        "type": "string",
        "scope": "contact",
        "value": None,
    }
    assert "name" in errors_of(VariableInput(), {"name": "Plan-X", "type": "string"})
    assert "name" in errors_of(VariableInput(), {"name": "first_name", "type": "string"})
    assert "value" in errors_of(
        VariableInput(), {"name": "plan", "type": "string", "value": "gold"}
    )
    assert "value" in errors_of(
        VariableInput(), {"name": "limit", "type": "number", "scope": "account", "value": "ten"}
    )
    assert errors_of(VariableUpdate(), {"scope": "account"}) == {"scope": ["read-only field"]}


@pytest.mark.parametrize("name", ["web\nsite", "web\r\nSet-Cookie: x=1", "tab\there", "bell\x07"])
def test_a_source_name_is_one_line_without_control_characters(name):
    # It becomes the Location of the 201 (a newline there broke the answer: a 500).
    with pytest.raises(Invalid) as invalid:
        load(SourceInput(), {"name": name})
    assert list(invalid.value.errors) == ["name"]
    assert load(SourceInput(), {"name": "Київ shop – spring"}) == {"name": "Київ shop – spring"}
