"""Approving a template is an admin's act, through the running gateway: a key that may
send messages but is not admin can write templates, not their approval."""

import uuid


def _key(suite, *scopes: str) -> str:
    args = ["apikey", "create", "--name", f"templates-{uuid.uuid4().hex[:6]}"]
    for scope in scopes:
        args += ["--scope", scope]
    made = suite.plexus(*args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().split()[-1]


def test_only_an_admin_key_sets_approved_and_an_edit_withdraws_it(suite):
    writer = suite.http(_key(suite, "messages:send"))
    admin = suite.http()
    templates = suite.url + "/v1/templates"
    body = {"name": "welcome", "channel": "viber", "body": "Hi {{ first_name }}"}

    for approved in (True, False):
        refused = writer.post(templates, json={**body, "approved": approved}, timeout=15)
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"] == {"approved": ["needs the admin scope"]}
    draft = writer.post(templates, json=body, timeout=15)
    assert draft.status_code == 201, draft.text
    one = f"{templates}/{draft.json()['id']}"
    refused = writer.patch(one, json={"approved": True}, timeout=15)
    assert refused.status_code == 403 and "approved" in refused.json()["errors"]
    assert admin.get(one, timeout=15).json()["approved"] is False

    assert admin.patch(one, json={"approved": True}, timeout=15).json()["approved"] is True
    renamed = writer.patch(one, json={"name": "welcome-2"}, timeout=15).json()
    assert renamed["approved"] is True
    edited = writer.patch(one, json={"body": "Hi {{ first_name }}, 50% off"}, timeout=15)
    assert edited.status_code == 200 and edited.json()["approved"] is False
