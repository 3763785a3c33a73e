"""Through the running gateway: templates in several languages (a contact's language
picks the text sent), an edited translation withdrawing an approval, and a message
sent through the API having no trigger (the API does not take one)."""

import uuid

from tests.e2e.conftest import sent_item


def _contact(http, suite, **fields) -> dict:
    body = {"email": f"t-{uuid.uuid4().hex[:10]}@example.com", "first_name": "Olena", **fields}
    made = http.post(suite.url + "/v1/contacts", json=body, timeout=15)
    assert made.status_code == 201, made.text
    return made.json()


def test_a_template_in_several_languages_sends_the_contacts_one(suite):
    http = suite.http()
    templates = suite.url + "/v1/templates"
    body = {
        "name": f"welcome-{uuid.uuid4().hex[:6]}",
        "channel": "email",
        "subject": "Welcome, {{ first_name }}",
        "body": "<p>Hello</p>",
        "translations": {"UK": {"subject": "Вітаємо, {{ first_name }}", "body": "<p>Привіт</p>"}},
        "approved": True,
    }
    bad = http.post(templates, json={**body, "translations": {"zz": {"body": "?"}}}, timeout=15)
    assert bad.status_code == 422 and "translations.zz.key" in bad.json()["errors"], bad.text
    bad = http.post(templates, json={**body, "translations": {"uk": {}}}, timeout=15)
    assert bad.status_code == 422 and "translations.uk.value.body" in bad.json()["errors"]
    made = http.post(templates, json=body, timeout=15)
    assert made.status_code == 201, made.text
    template = made.json()
    assert template["translations"] == {
        "uk": {"subject": "Вітаємо, {{ first_name }}", "body": "<p>Привіт</p>"}
    }

    subjects = {}
    for language in ("uk", "de"):
        contact = _contact(http, suite, language=language)
        sent = http.post(
            suite.url + "/v1/messages",
            json={
                "contact": {"id": contact["id"]},
                "channel": "email",
                "template_id": template["id"],
            },
            timeout=15,
        )
        assert sent.status_code == 202, sent.text
        message = http.get(f"{suite.url}/v1/messages/{sent.json()['id']}", timeout=15).json()
        subjects[language] = message["content"]["subject"]
    assert subjects == {"uk": "Вітаємо, Olena", "de": "Welcome, Olena"}

    one = f"{templates}/{template['id']}"
    edited = http.patch(one, json={"translations": {"uk": {"body": "<p>Вітаю</p>"}}}, timeout=15)
    assert edited.status_code == 200 and edited.json()["approved"] is False
    assert http.get(one, timeout=15).json()["translations"] == {
        "uk": {"subject": None, "body": "<p>Вітаю</p>"}
    }


def test_a_message_sent_through_the_api_has_no_trigger(suite):
    http = suite.http()
    contact = _contact(http, suite)
    body = {
        "contact": {"id": contact["id"]},
        "channel": "email",
        "origin": "campaign",
        "content": {"subject": "Hi", "text": "Hello"},
    }
    refused = http.post(
        suite.url + "/v1/messages", json={**body, "trigger": {"campaign_id": "x"}}, timeout=15
    )
    assert refused.status_code == 422 and "trigger" in refused.json()["errors"], refused.text
    sent = http.post(suite.url + "/v1/messages", json=body, timeout=15)
    assert sent.status_code == 202, sent.text
    message_url = f"{suite.url}/v1/messages/{sent.json()['id']}"
    message = http.get(message_url, timeout=15).json()
    assert "trigger" in message and message["trigger"] is None
    # Its activity item says the same once it is sent.
    item = sent_item(suite, http, contact["id"])
    detail = http.get(f"{suite.url}/v1/activity/{item['id']}", timeout=15).json()
    assert "trigger" in detail and detail["trigger"] is None
