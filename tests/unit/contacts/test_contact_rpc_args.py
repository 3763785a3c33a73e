"""The RPC arguments that are not bodies: paging and look-up parameters."""

import pytest

from plexus.errors import Invalid
from plexus.parsing import load
from services.contacts.schemas import (
    ContactVariablesArgs,
    FindContactsArgs,
    IdPageArgs,
    PageArgs,
)


def test_nulls_take_the_defaults():
    assert load(
        FindContactsArgs(),
        {
            "user_id": None,
            "email": None,
            "phone": None,
            "region": None,
            "status": None,
            "subscribed": None,
            "name": None,
            "limit": None,
            "cursor": None,
        },
    ) == {
        "user_id": None,
        "email": None,
        "phone": None,
        "region": None,
        "status": None,
        "subscribed": None,
        "name": None,
        "limit": 50,
        "cursor": None,
    }
    assert load(PageArgs(), {}) == {"limit": 50, "cursor": None}
    assert load(ContactVariablesArgs(), {"q": None}) == {"q": None}


def test_blank_look_ups_are_no_look_ups():
    args = load(FindContactsArgs(), {"email": " ", "phone": "", "region": ""})
    assert (args["email"], args["phone"], args["region"]) == (None, None, None)


@pytest.mark.parametrize("limit", [0, 201, -1, "many", True])
def test_limit_is_1_to_200(limit):
    with pytest.raises(Invalid) as caught:
        load(PageArgs(), {"limit": limit})
    assert set(caught.value.errors) == {"limit"}


def test_a_limit_may_come_as_text():
    assert load(PageArgs(), {"limit": "200"})["limit"] == 200


@pytest.mark.parametrize("cursor", ["x", "01JDX0000000000000000000ZZ", "' or 1=1 --", 5])
def test_a_contact_cursor_is_an_id_this_api_gave(cursor):
    with pytest.raises(Invalid) as caught:
        load(IdPageArgs(), {"cursor": cursor})
    assert set(caught.value.errors) == {"cursor"}


def test_a_region_is_a_country_code():
    assert load(FindContactsArgs(), {"region": "ua"})["region"] == "UA"
    with pytest.raises(Invalid) as caught:
        load(FindContactsArgs(), {"region": "Ukraine"})
    assert set(caught.value.errors) == {"region"}
