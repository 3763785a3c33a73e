"""Notes: at most five per contact, 1 to 500 characters, written by the actor."""

import pytest

from plexus.errors import Conflict, Invalid, NotFound
from services.contacts.logic import notes

CLERK = "support-desk"


@pytest.fixture
def contact(create):
    return create(email="a@example.com")


def test_a_note_is_stored_with_its_author(run, contact):
    note = run(notes.add_note, contact["id"], {"content": "  call back on Monday "}, CLERK)
    assert note["content"] == "call back on Monday" and note["author"] == CLERK
    assert note["created_at"].endswith("Z") and note["id"]
    assert run(notes.list_notes, contact["id"]) == {"data": [note], "next_cursor": None}


def test_a_sixth_note_is_a_conflict(run, contact):
    made = [run(notes.add_note, contact["id"], {"content": f"note {n}"}, CLERK) for n in range(5)]
    with pytest.raises(Conflict) as caught:
        run(notes.add_note, contact["id"], {"content": "sixth"}, CLERK)
    assert "notes" in caught.value.errors
    run(notes.delete_note, contact["id"], made[0]["id"], CLERK)
    run(notes.add_note, contact["id"], {"content": "sixth, once one is gone"}, CLERK)
    listed = run(notes.list_notes, contact["id"])["data"]
    assert [n["content"] for n in listed] == [
        "sixth, once one is gone",
        "note 4",
        "note 3",
        "note 2",
        "note 1",
    ]


@pytest.mark.parametrize(
    "body", [{"content": ""}, {"content": "   "}, {"content": "x" * 501}, {}, {"content": 5}]
)
def test_content_is_one_to_500_characters(run, contact, body):
    with pytest.raises(Invalid) as caught:
        run(notes.add_note, contact["id"], body, CLERK)
    assert set(caught.value.errors) == {"content"}


def test_500_characters_fit(run, contact):
    assert len(run(notes.add_note, contact["id"], {"content": "x" * 500}, CLERK)["content"]) == 500


def test_a_note_of_another_contact_is_not_found(run, contact, create):
    other = create(email="b@example.com")
    note = run(notes.add_note, other["id"], {"content": "theirs"}, CLERK)
    with pytest.raises(NotFound):
        run(notes.delete_note, contact["id"], note["id"], CLERK)
    with pytest.raises(NotFound):
        run(notes.add_note, "01jdx0000000000000000000zz", {"content": "x"}, CLERK)
    assert run(notes.list_notes, other["id"])["data"] == [note]
