"""Reading an import batch column by column gives what the ContactCreate schema gives for
each item, values and errors alike, without a schema load per valid item and with each
distinct phone number parsed once."""

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plexus.contract.contacts import ContactCreate
from services.contacts.logic import contact_input

FIELDS = list(ContactCreate().load_fields)
# Strings each field meets in real bodies, good and bad, with the odd spacing and case.
TEXTS = [
    "",
    "  ",
    "a@example.com",
    " A@Example.COM ",
    "b@example.com",
    "not-an-email",
    "a@b",
    "+380501234567",
    "050 123 4567",
    "0501234567",
    "+1 202 555 0143",
    "+38050",
    "12",
    "uk",
    " UK",
    "xx",
    "en",
    "Europe/Kyiv",
    "europe/kyiv",
    "+02:00",
    "+15:00",
    "-12:00",
    "UA",
    "ua",
    "US",
    "ZZ",
    "1990-01-01",
    "2999-01-01",
    "1990-02-30",
    "http://x.org/a.png",
    "ftp://x.org",
    "a\x00b",
    "x" * 101,
    "y" * 256,
    "shop",
    "gold",
    "Ann",
]
SCALARS = st.one_of(
    st.none(),
    st.sampled_from(TEXTS),
    st.text(max_size=4),
    st.integers(-3, 10),
    st.floats(),
    st.booleans(),
)
PARTS = ["country", "region", "city", "street", "postcode", "offers", "plan", "bad"]
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.sampled_from(PARTS), SCALARS, max_size=3),
)
ANY_ITEM = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS + ["status", "id", "nickname"]), VALUES, max_size=6),
    SCALARS,
)
# Mostly valid bodies, so that the column reading is what gets compared.
GOOD_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "user_id": st.sampled_from(["u-1", " u-2 ", "", None]),
        "email": st.sampled_from(["a@example.com", " A@Example.COM ", "b@example.com", None, ""]),
        "phone": st.sampled_from(["+380501234567", "050 123 4567", "+1 202 555 0143", None]),
        "region": st.sampled_from(["UA", "ua", "US", None]),
        "first_name": st.sampled_from(["Ann", " Ann ", "", None]),
        "birthday": st.sampled_from(["1990-01-01", None]),
        "gender": st.sampled_from([0, 1, 2, 9, None]),
        "language": st.sampled_from(["uk", " EN", None]),
        "timezone": st.sampled_from(["Europe/Kyiv", "europe/kyiv", "+02:00", None]),
        "address": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "country": st.sampled_from(["UA", "us", None]),
                    "city": st.sampled_from(["Kyiv", " ", None]),
                },
            ),
        ),
        "categories": st.sampled_from([{"offers": True}, {}, None]),
        "contact_score": st.sampled_from([0, 1.5, -0.0, None]),
        "variables": st.sampled_from([{"plan": "gold", "visits": 3}, {"plan": None}, None]),
    },
)


def one_by_one(items):
    return [contact_input.read(ContactCreate(), item) for item in items]


def same(left, right):
    # repr: NaN equals itself, and -0.0 differs from 0.0, as they do in what is stored.
    return [(repr(list(v.items())), repr(e)) for v, e in left] == [
        (repr(list(v.items())), repr(e)) for v, e in right
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(ANY_ITEM, GOOD_ITEM), max_size=8))
def test_a_batch_reads_as_its_items_read_one_by_one(items):
    assert same(contact_input.read_many(ContactCreate(), items), one_by_one(items))


@settings(max_examples=200, deadline=None)
@given(st.lists(GOOD_ITEM, min_size=1, max_size=8))
def test_valid_bodies_read_the_same_in_any_batch(items):
    # The same strings in many items (one reading each) give each item its own values.
    batch = items + list(reversed(items))
    assert same(contact_input.read_many(ContactCreate(), batch), one_by_one(batch))


def test_valid_items_are_read_without_a_schema_load_each(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a schema load for a valid item")

    items = [
        {"email": f"p{n}@example.com", "phone": f"+38050{n:07d}", "language": "uk"}
        for n in range(50)
    ]
    monkeypatch.setattr(ContactCreate, "load", refuse)
    read = contact_input.read_many(ContactCreate(), items)
    assert [values["email"] for values, errors in read] == [i["email"] for i in items]
    assert all(errors == {} for _, errors in read)


def test_each_distinct_phone_is_parsed_once(monkeypatch):
    parsed = []
    real = phonenumbers.parse

    def counting(text, region=None, *args, **kwargs):
        parsed.append((text, region))
        return real(text, region, *args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting)
    items = [{"user_id": f"u{n}", "phone": f"+38050000000{n % 5}"} for n in range(100)]
    items += [{"user_id": "national", "phone": "0500000001", "region": "UA"}]
    read = contact_input.read_many(ContactCreate(), items)
    assert len(parsed) == 6
    assert read[-1][0]["phone"] == read[1][0]["phone"] == "+380500000001"


def test_a_bad_item_gets_the_schemas_own_errors():
    items = [
        {"email": "a@example.com"},
        {"email": "bad", "status": "x", "gender": 3},
        {"address": {"country": "ZZ", "town": "x"}},
        "not an object",
    ]
    assert same(contact_input.read_many(ContactCreate(), items), one_by_one(items))
    assert set(contact_input.read_many(ContactCreate(), items)[1][1]) == {
        "email",
        "status",
        "gender",
    }
