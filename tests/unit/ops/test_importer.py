import pytest

from ops.importer import ImportFailure, column_mapping, row_to_contact


def test_columns_named_like_fields_map_themselves_and_others_are_reported():
    mapping, ignored = column_mapping(
        ["email", "First", "address.city", "variables.plan", "notes"],
        {"First": "first_name"},
        set(),
    )
    assert mapping == {
        "email": "email",
        "First": "first_name",
        "address.city": "address.city",
        "variables.plan": "variables.plan",
    }
    assert ignored == ["notes"]


def test_bad_mappings_are_refused_with_the_reason():
    with pytest.raises(ImportFailure, match="lacks"):
        column_mapping(["email"], {"Mail": "email"}, set())
    with pytest.raises(ImportFailure, match="no contact field"):
        column_mapping(["email", "x"], {"x": "shoe_size"}, set())
    with pytest.raises(ImportFailure, match="no column"):
        column_mapping(["a", "b"], {}, set())


def test_rows_become_typed_nested_contacts_and_empty_cells_are_left_out():
    mapping = {
        "email": "email",
        "g": "gender",
        "city": "address.city",
        "plan": "variables.plan",
        "seats": "variables.seats",
        "vip": "variables.vip",
        "news": "categories.news",
        "phone": "phone",
    }
    row = {
        "email": "a@b.co",
        "g": "2",
        "city": "Kyiv",
        "plan": "gold",
        "seats": "5",
        "vip": "yes",
        "news": "0",
        "phone": "",
    }
    types = {"plan": "string", "seats": "number", "vip": "boolean"}
    assert row_to_contact(row, mapping, types) == {
        "email": "a@b.co",
        "gender": 2,
        "address": {"city": "Kyiv"},
        "variables": {"plan": "gold", "seats": 5, "vip": True},
        "categories": {"news": False},
    }


@pytest.mark.parametrize(
    "row, says",
    [
        ({"seats": "five"}, "variables.seats: not a number"),
        ({"news": "maybe"}, "categories.news: not true/false"),
        ({"g": "m"}, "gender: not a number"),
    ],
)
def test_values_that_cannot_be_converted_name_their_field(row, says):
    mapping = {"seats": "variables.seats", "news": "categories.news", "g": "gender"}
    with pytest.raises(ValueError, match=says):
        row_to_contact(row, mapping, {"seats": "number"})
