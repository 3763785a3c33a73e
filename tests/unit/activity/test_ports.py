"""Resolving posted contacts through contacts' resolve_refs: one call for a batch's
distinct contacts, its answers as ids or errors per contact, and contacts not answering
fails the whole call."""

import pytest

from plexus.errors import Conflict, Invalid, NotFound, Unavailable
from services.activity.ports import ContactsPort


class FakeContacts:
    """contacts' resolve_refs as the port calls it, recording each call."""

    def __init__(self, away=False):
        self.calls = []
        self.away = away

    def __call__(self, service, method, refs, **creating):
        self.calls.append((method, refs, *([creating] if creating else [])))
        if self.away:
            raise Unavailable("the contacts service did not answer within 3 s")
        return [self._one(ref) for ref in refs]

    @staticmethod
    def _one(ref: dict) -> dict:
        if ref.get("id") == "01jdx00000000000000000000a":
            return {"id": ref["id"]}
        if ref.get("phone") == "bad":
            return {"invalid": {"phone": ["not a valid phone number"]}}
        if ref.get("email") == "a@x.example":
            return {"id": "c-email"}
        return {"not_found": True}


def test_the_distinct_contacts_of_a_batch_are_asked_in_one_call():
    contacts = FakeContacts()
    found = ContactsPort(contacts).resolve_many(
        [
            {"email": "a@x.example"},
            {"id": "01jdx00000000000000000000a"},
            {"email": "a@x.example"},
            {"email": "b@x.example"},
            {"phone": "bad"},
        ]
    )
    assert found[:3] == ["c-email", "01jdx00000000000000000000a", "c-email"]
    assert isinstance(found[3], NotFound)
    assert isinstance(found[4], Invalid)
    assert found[4].errors == {"phone": ["not a valid phone number"]}
    assert contacts.calls == [
        (
            "resolve_refs",
            [
                {"email": "a@x.example"},
                {"id": "01jdx00000000000000000000a"},
                {"email": "b@x.example"},
                {"phone": "bad"},
            ],
        )
    ]


def test_contacts_not_answering_fails_the_whole_call():
    with pytest.raises(Unavailable):
        ContactsPort(FakeContacts(away=True)).resolve_many([{"email": "a@x.example"}])


def test_refs_that_may_be_made_are_asked_apart_saying_how_they_arrive():
    contacts = FakeContacts()
    refs = [{"email": "b@x.example"}, {"email": "b@x.example"}, {"email": "c@x.example"}]
    ContactsPort(contacts).resolve_many(refs, ["event", None, "event"], "shop-key")
    assert contacts.calls == [
        (
            "resolve_refs",
            [{"email": "b@x.example"}, {"email": "c@x.example"}],
            {"created_via": "event", "actor": "shop-key"},
        ),
        ("resolve_refs", [{"email": "b@x.example"}]),
    ]


def test_identifiers_of_different_contacts_are_a_conflict():
    def contacts(service, method, refs, **creating):
        return [{"conflict": {"email": ["belongs to another contact"]}}]

    [found] = ContactsPort(contacts).resolve_many([{"email": "a@x.example"}], ["order"])
    assert isinstance(found, Conflict) and found.errors == {"email": ["belongs to another contact"]}
