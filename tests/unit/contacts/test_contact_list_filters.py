"""The contacts list's filters (status, a channel subscribed now, a name prefix in any
case), on SQLite and PostgreSQL: each narrows the newest-first pages and a look-up, the
cursor goes on within the filtered list, and bad values are 422 naming the parameter."""

import pytest

from plexus.errors import Invalid
from plexus.parsing import load
from services.contacts.logic import contacts, subscriptions
from services.contacts.schemas import FindContactsArgs

ACTOR = "crm-sync"


@pytest.fixture
def engine(engine_on_either):
    return engine_on_either


@pytest.fixture
def people(run):
    made = {}
    for key, data in {
        "olena": {"email": "olena@example.com", "first_name": "Olena", "last_name": "Kovalenko"},
        "oleh": {"email": "oleh@example.com", "first_name": "oleh", "last_name": "Shevchenko"},
        "taras": {"phone": "+380671112233", "first_name": "Taras", "last_name": "Olenko"},
        "odd": {"user_id": "u-9", "first_name": "50%_off\\"},
    }.items():
        made[key] = run(contacts.create_contact, data, ACTOR)["id"]
    run(contacts.set_status, made["oleh"], "inactive", ACTOR)
    run(
        subscriptions.set_subscription,
        made["olena"],
        "email",
        {"status": "unsubscribed", "reason": "asked"},
        ACTOR,
    )
    return made


def ids(run, **args):
    return [c["id"] for c in run(contacts.find_contacts, **load(FindContactsArgs(), args))["data"]]


def test_each_filter_narrows_the_newest_first_list(run, people):
    assert ids(run) == [people["odd"], people["taras"], people["oleh"], people["olena"]]
    assert ids(run, status="inactive") == [people["oleh"]]
    assert ids(run, status="active") == [people["odd"], people["taras"], people["olena"]]
    # olena unsubscribed her email; taras has no email at all.
    assert ids(run, subscribed="email") == [people["oleh"]]
    assert ids(run, subscribed="sms") == [people["taras"]]
    # A prefix of the first or the last name, in any case.
    assert ids(run, name="OLE") == [people["taras"], people["oleh"], people["olena"]]
    assert ids(run, name="kov") == [people["olena"]]
    assert ids(run, name="lena") == []
    # LIKE's own characters are matched as themselves.
    assert ids(run, name="50%_") == [people["odd"]]
    assert ids(run, name="5_") == []
    assert ids(run, name="ole", status="active") == [people["taras"], people["olena"]]


def test_the_cursor_goes_on_within_the_filter(run, people):
    first = run(contacts.find_contacts, name="ole", limit=2)
    assert [c["id"] for c in first["data"]] == [people["taras"], people["oleh"]]
    rest = run(contacts.find_contacts, name="ole", limit=2, cursor=first["next_cursor"])
    assert [c["id"] for c in rest["data"]] == [people["olena"]]
    assert rest["next_cursor"] is None


def test_a_look_up_must_pass_the_filters_too(run, people):
    assert ids(run, email="oleh@example.com") == [people["oleh"]]
    assert ids(run, email="oleh@example.com", status="active") == []


@pytest.mark.parametrize(
    "args, field",
    [
        ({"status": "gone"}, "status"),
        ({"subscribed": "pigeon"}, "subscribed"),
        ({"name": "x" * 101}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_are_invalid_naming_them(args, field):
    with pytest.raises(Invalid) as raised:
        load(FindContactsArgs(), args)
    assert field in raised.value.errors
