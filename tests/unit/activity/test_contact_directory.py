"""Resolving posted contacts through the contacts RPCs: each distinct contact asked once,
errors per contact, and contacts not answering fails the whole call."""

import pytest

from plexus.errors import Invalid, NotFound, Unavailable
from services.activity.directory import ContactDirectory


class FakeContacts:
    """The contacts RPCs the directory calls, recording each call."""

    def __init__(self, away=False):
        self.calls = []
        self.away = away

    def __call__(self, service, method, *args, **kwargs):
        self.calls.append((method, args, kwargs))
        if self.away:
            raise Unavailable("the contacts service did not answer within 3 s")
        if method == "get_contact":
            if args[0] != "01jdx00000000000000000000a":
                raise NotFound("no such contact")
            return {"id": args[0]}
        if kwargs.get("phone") == "bad":
            raise Invalid("invalid phone", {"phone": ["not a valid phone number"]})
        return {"data": [{"id": "c-email"}] if kwargs.get("email") == "a@x.example" else [],
                "next_cursor": None}


def test_each_distinct_contact_is_asked_once():
    contacts = FakeContacts()
    found = ContactDirectory(contacts).resolve_many(
        [{"email": "a@x.example"}, {"id": "01jdx00000000000000000000a"},
         {"email": "a@x.example"}, {"email": "b@x.example"}, {"phone": "bad"}])
    assert found[:3] == ["c-email", "01jdx00000000000000000000a", "c-email"]
    assert isinstance(found[3], NotFound) and isinstance(found[4], Invalid)
    assert len(contacts.calls) == 4
    assert ("find_contacts", (), {"user_id": None, "email": "a@x.example", "phone": None}) \
        in contacts.calls


def test_contacts_not_answering_fails_the_whole_call():
    with pytest.raises(Unavailable):
        ContactDirectory(FakeContacts(away=True)).resolve_many([{"email": "a@x.example"}])
