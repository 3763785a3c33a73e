"""Templates in several languages: stored and validated like a contact's language,
picked by the contact's language when a message is rendered (one sent alone or in a
batch), else the template's own text."""

import pytest

from plexus.errors import Invalid
from services.messaging.logic import messages, templates
from services.messaging.logic.batches import queue_batch
from services.messaging.logic.sending import send_message
from services.messaging.models import Template
from tests.unit.messaging.conftest import SETTINGS, FakeContacts, make_contact

UK = make_contact(language="uk")
DE = make_contact(id="01contact0000000000000000d", language="de", email="de@x.example")
NONE = make_contact(id="01contact0000000000000000n", email="n@x.example")


@pytest.fixture
def contacts():
    return FakeContacts(UK, DE, NONE)


@pytest.fixture
def template(run):
    return run(
        templates.create_template,
        {
            "name": "welcome",
            "channel": "email",
            "subject": "Welcome, {{ first_name }}",
            "body": "<p>Hello</p>",
            "translations": {
                "UK": {"subject": "Вітаємо, {{ first_name }}", "body": "<p>Привіт</p>"}
            },
        },
        "tester",
    )


def test_the_texts_by_language_and_the_pick():
    template = Template(
        channel="sms", subject=None, body="Hi", translations={"uk": {"body": "Привіт"}}
    )
    texts = templates.texts_by_language(template)
    assert templates.in_language(texts, "uk") == {"body": "Привіт"}
    assert templates.in_language(texts, "de") == {"body": "Hi"}
    assert templates.in_language(texts, None) == {"body": "Hi"}
    email = Template(
        channel="email", subject="S", body="B", translations={"uk": {"subject": None, "body": "Б"}}
    )
    assert templates.in_language(templates.texts_by_language(email), "uk") == {
        "subject": "S",
        "html": "Б",
    }


def test_a_template_keeps_its_translations_with_codes_as_a_contact_has_them(run, template):
    assert template["translations"] == {
        "uk": {"subject": "Вітаємо, {{ first_name }}", "body": "<p>Привіт</p>"}
    }
    assert run(templates.get_template, template["id"])["translations"] == template["translations"]
    for bad, path in (
        ({"xx": {"body": "?"}}, "translations.xx.key"),
        ({"uk": {}}, "translations.uk.value.body"),
        ({"uk": {"body": "{% if %}"}}, "translations.uk.body"),
        ({"uk": {"body": "x", "html": "y"}}, "translations.uk.value.html"),
    ):
        with pytest.raises(Invalid) as caught:
            run(templates.update_template, template["id"], {"translations": bad}, "tester")
        assert path in caught.value.errors, caught.value.errors


def test_the_contacts_language_picks_the_text_sent_alone_or_in_a_batch(
    unit_of_work, contacts, template, run
):
    def sent_alone(contact):
        body = {"contact": {"id": contact["id"]}, "channel": "email", "template_id": template["id"]}
        queued = send_message(unit_of_work, contacts, SETTINGS, body, "api")
        return run(messages.get_message, queued["id"])["content"]

    assert sent_alone(UK) == {"subject": "Вітаємо, Ann", "html": "<p>Привіт</p>"}
    assert sent_alone(DE) == {"subject": "Welcome, Ann", "html": "<p>Hello</p>"}
    answers = queue_batch(
        unit_of_work,
        contacts,
        SETTINGS,
        [
            {
                "key": f"k-{c['id']}",
                "contact_id": c["id"],
                "channel": "email",
                "template_id": template["id"],
                "origin": "campaign",
            }
            for c in (UK, DE, NONE)
        ],
        "campaigns",
    )
    subjects = [run(messages.get_message, a["message_id"])["content"]["subject"] for a in answers]
    assert subjects == ["Вітаємо, Ann", "Welcome, Ann", "Welcome, Ann"]
