"""GET /v1/contacts/{id}/export: everything held on a contact, from every service."""

import uuid


def test_the_export_holds_everything_on_the_contact(suite):
    http = suite.http()
    tag = uuid.uuid4().hex[:8]
    contact = http.post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={"email": f"dsar-{tag}@example.com", "first_name": "Ada"},
    ).json()
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    http.post(url + "/notes", json={"content": "prefers mornings"}, timeout=15)
    http.put(
        url + "/subscriptions/email", json={"status": "unsubscribed", "reason": "asked"}, timeout=15
    )
    http.put(
        url + "/subscriptions/email", json={"status": "subscribed", "reason": "back"}, timeout=15
    )
    for n in range(3):
        assert (
            http.post(
                suite.url + "/v1/events",
                timeout=15,
                json={"contact": {"id": contact["id"]}, "name": f"viewed_{n}"},
            ).status_code
            == 202
        )
    sent = http.post(
        suite.url + "/v1/messages",
        timeout=15,
        json={
            "contact": {"id": contact["id"]},
            "channel": "email",
            "content": {"subject": "Hi", "text": "Hello Ada", "html": "<p>Hello Ada</p>"},
        },
    )
    assert sent.status_code == 202, sent.text

    answer = http.get(url + "/export", timeout=30)
    assert answer.status_code == 200, answer.text
    assert (
        answer.headers["Content-Disposition"]
        == f'attachment; filename="contact-{contact["id"]}.json"'
    )
    export = answer.json()
    assert export["contact"]["email"] == f"dsar-{tag}@example.com"
    assert [n["content"] for n in export["notes"]] == ["prefers mornings"]
    reasons = [entry["reason"] for entry in export["subscription_history"]]
    assert "asked" in reasons and "back" in reasons
    names = {item["details"].get("name") for item in export["activity"]}
    assert {"viewed_0", "viewed_1", "viewed_2"} <= names
    assert [m["id"] for m in export["messages"]] == [sent.json()["id"]]
    assert export["messages"][0]["content"]["subject"] == "Hi"
    assert export["segments"] == []  # the contact is in no segment


def test_the_export_needs_an_admin_key_and_a_known_contact(suite):
    assert suite.http().get(suite.url + "/v1/contacts/nobody/export", timeout=15).status_code == 404
    reader = suite.plexus(
        "apikey",
        "create",
        "--name",
        f"reader-{uuid.uuid4().hex[:6]}",
        "--scope",
        "contacts:read",
        "--scope",
        "activity:read",
    ).stdout.strip()
    assert (
        suite.http(reader).get(suite.url + "/v1/contacts/nobody/export", timeout=15).status_code
        == 403
    )
