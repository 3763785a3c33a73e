"""Variable definitions, sources and categories, what a contact's values may refer to,
and the variables a message to a contact can use."""

import pytest

from plexus.errors import Conflict, Invalid, NotFound
from services.contacts.logic import catalog, contacts, variables
from services.contacts.logic.message_variables import contact_variables

ACTOR = "crm-sync"


def test_sources_and_categories_are_registered_once_and_listed_by_name(run):
    assert run(catalog.create_source, {"name": " website "}, "tester")["name"] == "website"
    run(catalog.create_source, {"name": "fair"}, "tester")
    with pytest.raises(Conflict) as caught:
        run(catalog.create_source, {"name": "website"}, "tester")
    assert caught.value.errors == {"name": ["already exists"]}
    page = run(catalog.list_sources, 1, None)
    assert [s["name"] for s in page["data"]] == ["fair"] and page["next_cursor"] == "fair"
    assert [s["name"] for s in run(catalog.list_sources, 5, "fair")["data"]] == ["website"]

    made = run(catalog.create_category, {"name": "newsletter", "description": "weekly"}, "tester")
    assert made["description"] == "weekly" and made["created_at"].endswith("Z")
    assert (made["created_by"], made["updated_by"]) == ("tester", "tester")
    with pytest.raises(Conflict):
        run(catalog.create_category, {"name": "newsletter"}, "tester")
    with pytest.raises(Invalid) as caught:
        run(catalog.create_category, {"name": "News.Letter"}, "tester")
    assert set(caught.value.errors) == {"name"}
    assert run(catalog.list_categories, 50, None)["data"] == [made]


def test_a_contact_refers_to_registered_sources_and_categories(registered, create):
    contact = create(
        email="a@example.com", source="website", categories={"newsletter": True, "offers": False}
    )
    assert contact["source"] == "website"
    assert contact["categories"] == {"newsletter": True, "offers": False}
    with pytest.raises(Invalid) as caught:
        create(email="b@example.com", source="nowhere", categories={"gossip": True})
    assert caught.value.errors == {
        "source": ["not a registered source"],
        "categories.gossip": ["not a registered category"],
    }


def test_contact_variables_are_defined_and_typed(registered, create):
    contact = create(
        email="a@example.com",
        variables={"plan": "gold", "visits": 3, "vip": True, "renewal": "2027-01-31"},
    )
    assert contact["variables"] == {
        "plan": "gold",
        "visits": 3,
        "vip": True,
        "renewal": "2027-01-31",
    }
    with pytest.raises(Invalid) as caught:
        create(
            email="b@example.com",
            variables={
                "plan": 5,
                "visits": "3",
                "vip": "yes",
                "renewal": "31.01.2027",
                "shoe": 44,
                "company": "Mine",
            },
        )
    assert set(caught.value.errors) == {
        "variables.plan",
        "variables.visits",
        "variables.vip",
        "variables.renewal",
        "variables.shoe",
        "variables.company",
    }


def test_patch_changes_only_the_categories_and_variables_named(registered, create, run, outbox):
    contact = create(
        email="a@example.com",
        categories={"newsletter": True},
        variables={"plan": "gold", "visits": 3},
    )
    updated = run(
        contacts.update_contact,
        contact["id"],
        {"categories": {"offers": True}, "variables": {"visits": 4, "plan": None}},
        ACTOR,
    )
    assert updated["categories"] == {"newsletter": True, "offers": True}
    assert updated["variables"] == {"visits": 4}
    assert outbox("contact_updated")[-1]["changed"] == {
        "categories": {"newsletter": True, "offers": True},
        "variables": {"visits": 4},
    }
    cleared = run(
        contacts.update_contact, contact["id"], {"categories": None, "variables": None}, ACTOR
    )
    assert cleared["categories"] == {} and cleared["variables"] == {}


def test_definitions(run):
    made = run(variables.create_variable, {"name": "plan", "type": "string"}, "tester")
    assert {k: made[k] for k in ("name", "type", "scope", "value")} == {
        "name": "plan",
        "type": "string",
        "scope": "contact",
        "value": None,
    }
    assert run(variables.get_variable, "plan") == made
    with pytest.raises(Conflict) as caught:
        run(variables.create_variable, {"name": "plan", "type": "number"}, "tester")
    assert caught.value.errors == {"name": ["already exists"]}
    with pytest.raises(NotFound):
        run(variables.get_variable, "nothing")
    run(
        variables.create_variable,
        {"name": "limit", "type": "number", "scope": "account", "value": 10},
        "tester",
    )
    first = run(variables.list_variables, 1, None)
    assert [v["name"] for v in first["data"]] == ["limit"]
    assert [v["name"] for v in run(variables.list_variables, 1, first["next_cursor"])["data"]] == [
        "plan"
    ]


def test_an_account_variable_value_changes_and_is_checked_against_the_type(run):
    run(
        variables.create_variable,
        {"name": "limit", "type": "number", "scope": "account", "value": 10},
        "tester",
    )
    assert run(variables.update_variable, "limit", {"value": 20}, "tester")["value"] == 20
    with pytest.raises(Invalid) as caught:
        run(variables.update_variable, "limit", {"value": "twenty"}, "tester")
    assert set(caught.value.errors) == {"value"}
    with pytest.raises(Invalid) as caught:
        run(variables.update_variable, "limit", {"type": "boolean"}, "tester")
    assert set(caught.value.errors) == {"value"}
    changed = run(variables.update_variable, "limit", {"type": "string", "value": "20"}, "editor")
    assert (changed["type"], changed["value"]) == ("string", "20")
    assert (changed["created_by"], changed["updated_by"]) == ("tester", "editor")


def test_a_contact_variable_carries_no_value(run):
    run(variables.create_variable, {"name": "plan", "type": "string"}, "tester")
    with pytest.raises(Invalid) as caught:
        run(variables.update_variable, "plan", {"value": "gold"}, "tester")
    assert set(caught.value.errors) == {"value"}


def test_a_type_changes_only_while_no_contact_holds_a_value(registered, create, run):
    assert (
        run(variables.update_variable, "visits", {"type": "string"}, "tester")["type"] == "string"
    )
    create(email="a@example.com", variables={"vip": False})
    with pytest.raises(Conflict) as caught:
        run(variables.update_variable, "vip", {"type": "string"}, "tester")
    assert set(caught.value.errors) == {"type"}


def test_the_variables_a_message_can_use(registered, create, run):
    contact = create(
        email="a@example.com",
        first_name="Olena",
        address={"city": "Kyiv"},
        categories={"newsletter": True},
        variables={"plan": "gold"},
    )
    usable = run(contact_variables, contact["id"])["data"]
    by_name = {item["name"]: item for item in usable}
    assert by_name["first_name"] == {
        "name": "first_name",
        "kind": "field",
        "value": "Olena",
        "editable": True,
    }
    assert by_name["address.city"]["value"] == "Kyiv"
    assert by_name["id"] == {
        "name": "id",
        "kind": "field",
        "value": contact["id"],
        "editable": False,
    }
    assert by_name["created_at"]["editable"] is False
    assert by_name["plan"] == {
        "name": "plan",
        "kind": "variable",
        "value": "gold",
        "editable": True,
    }
    assert by_name["visits"] == {
        "name": "visits",
        "kind": "variable",
        "value": None,
        "editable": True,
    }
    assert by_name["categories.newsletter"] == {
        "name": "categories.newsletter",
        "kind": "list",
        "value": True,
        "editable": True,
    }
    assert by_name["categories.offers"]["value"] is False
    assert by_name["company"] == {
        "name": "company",
        "kind": "account",
        "value": "Plexus Ltd",
        "editable": False,
    }
    assert [item["kind"] for item in usable] == sorted(
        (item["kind"] for item in usable), key=["field", "variable", "list", "account"].index
    )


def test_the_message_variables_filter_by_name(registered, create, run):
    contact = create(email="a@example.com")
    names = [i["name"] for i in run(contact_variables, contact["id"], "NAME")["data"]]
    assert names == ["first_name", "last_name"]
    assert run(contact_variables, contact["id"], "offers")["data"][0]["kind"] == "list"
    with pytest.raises(NotFound):
        run(contact_variables, "01jdx0000000000000000000zz")
