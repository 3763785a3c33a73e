"""contacts_for_sending: a messaging batch's contacts and their variables in one call,
each as get_contact (the part a send reads) and contact_variables (by name) answer it
alone; on SQLite and PostgreSQL."""

import pytest

from plexus.contract.contacts import SENDING_FIELDS
from plexus.errors import Invalid
from services.contacts.logic import blacklists, contacts, variables
from services.contacts.logic.message_variables import contact_variables
from services.contacts.logic.sending import contacts_for_sending


@pytest.fixture
def engine(engine_on_either):
    return engine_on_either


def test_each_contact_and_its_variables_as_the_single_reads_answer(run, create):
    run(variables.create_variable, {"name": "plan", "type": "string", "scope": "contact"}, "crm")
    ann = create(email="ann@example.com", first_name="Ann", variables={"plan": "gold"})
    bob = create(
        phone="+380501234567",
        first_name="Bob",
        language="uk",
        birthday="1990-05-17",
        gender=1,
        address={"country": "UA", "city": "Kyiv"},
        timezone="Europe/Kyiv",
    )
    run(blacklists.add_to_blacklist, ann["id"], "email", {"reason": "asked"}, "crm")
    found = run(
        contacts_for_sending, [ann["id"], bob["id"], "01nobody000000000000000000", ann["id"]]
    )
    assert set(found) == {ann["id"], bob["id"]}
    for person in (ann, bob):
        whole = run(contacts.get_contact, person["id"])
        assert found[person["id"]]["contact"] == {name: whole[name] for name in SENDING_FIELDS}
        items = run(contact_variables, person["id"])["data"]
        assert found[person["id"]]["variables"] == {i["name"]: i["value"] for i in items}
    assert found[bob["id"]]["variables"]["address.city"] == "Kyiv"
    assert found[bob["id"]]["contact"]["timezone"] == "Europe/Kyiv"
    assert found[ann["id"]]["contact"]["blacklists"]["email"]


def test_ids_are_a_list_of_at_most_500(run):
    for bad in ("x", [1], ["a"] * 501):
        with pytest.raises(Invalid) as caught:
            run(contacts_for_sending, bad)
        assert list(caught.value.errors) == ["ids"]
    assert run(contacts_for_sending, []) == {}
