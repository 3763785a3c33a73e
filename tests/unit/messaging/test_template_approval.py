"""Template approval: a change of what an approved template says withdraws its approval
(viber sends approved templates only, so an edited text is never sent unreviewed)."""

import pytest

from plexus.errors import Conflict
from services.messaging.logic import sending, templates
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact


def _approved(run, **fields) -> dict:
    made = run(
        templates.create_template,
        {
            "name": "welcome",
            "channel": "viber",
            "body": "Hi {{ first_name }}",
            "approved": True,
            **fields,
        },
        "tester",
    )
    assert made["approved"] is True
    return made


@pytest.mark.parametrize(
    "change",
    [
        {"body": "Hi {{ first_name }}, 50% off"},
        {"subject": "A subject now"},
        {"translations": {"uk": {"body": "Привіт, {{ first_name }}"}}},
    ],
)
def test_changing_the_text_of_an_approved_template_unapproves_it(run, change):
    made = _approved(run)
    changed = run(templates.update_template, made["id"], change, "tester")
    assert changed["approved"] is False
    assert run(templates.get_template, made["id"])["approved"] is False


def test_renaming_or_resending_the_same_text_keeps_the_approval(run):
    made = _approved(run)
    assert (
        run(templates.update_template, made["id"], {"name": "hello"}, "tester")["approved"] is True
    )
    same = run(templates.update_template, made["id"], {"body": made["body"]}, "tester")
    assert same["approved"] is True
    same = run(templates.update_template, made["id"], {"translations": {}}, "tester")
    assert same["approved"] is True


def test_a_change_that_approves_the_new_text_stays_approved(run):
    made = _approved(run)
    both = run(templates.update_template, made["id"], {"body": "New", "approved": True}, "editor")
    assert both["approved"] is True and both["body"] == "New"
    assert (both["created_by"], both["updated_by"]) == ("tester", "editor")


def test_viber_refuses_a_template_unapproved_by_an_edit(run, unit_of_work):
    made = _approved(run)
    run(templates.update_template, made["id"], {"body": "Edited"}, "tester")
    contacts = FakeContacts(make_contact())
    with pytest.raises(Conflict) as refused:
        sending.send_message(
            unit_of_work,
            contacts,
            SETTINGS,
            {
                "contact": {"id": make_contact()["id"]},
                "channel": "viber",
                "template_id": made["id"],
            },
            "crm",
        )
    assert refused.value.errors == {"template_id": ["not approved"]}
