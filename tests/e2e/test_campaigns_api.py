"""Campaigns over HTTP, on SQLite and on PostgreSQL: a segment of contacts, some
unsubscribed and one black-listed, gets a campaign; once `finished` each member who may
receive it has exactly one message (its provider file, and the message's origin), the
others are counted in `stats.refused` by reason; recipients listed and filtered;
pause / resume / cancel; 409 for PATCH and DELETE once started; 422 for a template of
another channel, or none, or no segment; 403 without the scope."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import wait_until_idle
from tests.e2e.test_contacts_api import assert_problem, create, unique_email
from tests.e2e.test_hostile_segments import key_with
from tests.polling import wait_for


@pytest.fixture(autouse=True)
def quiet(suite):
    wait_until_idle(suite)


def call(suite, method: str, path: str, expect: int, body=None, **query) -> dict:
    answer = suite.http().request(method, suite.url + path, json=body, params=query, timeout=15)
    assert answer.status_code == expect, answer.text
    return answer.json() if answer.content else {}


def put(suite, path: str, body: dict) -> None:
    call(suite, "PUT", path, 200, body)


def template(suite, channel: str = "email") -> str:
    body = {"name": f"t-{uuid.uuid4().hex[:6]}", "channel": channel, "body": "Hello"}
    if channel == "email":
        body["subject"] = "Winter sale"
    return call(suite, "POST", "/v1/templates", 201, body)["id"]


def audience(suite, count: int) -> tuple[str, list[str]]:
    """A segment of `count` new contacts with subscribed email, and their ids."""
    tag = f"camp-{uuid.uuid4().hex[:10]}"
    # The segment first, then its contacts, each checked against it as it is projected:
    # a segment made while its contacts' events are being handled can miss one on
    # PostgreSQL (segments' evaluation and its event handling race).
    rule = {"field": "last_name", "op": "eq", "value": tag}
    segment = call(suite, "POST", "/v1/segments", 201, {"name": tag, "rule": rule})
    ids = []
    for _ in range(count):
        contact = create(suite, email=unique_email(), last_name=tag)
        put(suite, f"/v1/contacts/{contact['id']}/subscriptions/email", {"status": "subscribed"})
        ids.append(contact["id"])
    members = f"/v1/segments/{segment['id']}/members"
    wait_for(
        lambda: sorted(call(suite, "GET", members, 200, limit=200)["data"]) == sorted(ids),
        what="the segment's members",
    )
    return segment["id"], ids


def campaign(suite, segment_id: str, template_id: str, **fields) -> dict:
    body = {
        "name": "Winter sale",
        "channel": "email",
        "template_id": template_id,
        "segment_id": segment_id,
        **fields,
    }
    return call(suite, "POST", "/v1/campaigns", 201, body)


def all_recipients(suite, path: str) -> list[dict]:
    return call(suite, "GET", path + "/recipients", 200, limit=200)["data"]


def provider_files(suite, contact_id: str) -> list[Path]:
    return list((Path(suite.env["PLEXUS_OUTBOX_DIR"]) / "email" / contact_id).glob("*.json"))


def test_each_member_who_may_gets_exactly_one_message(suite):
    segment_id, ids = audience(suite, 6)
    for contact_id in ids[:2]:
        put(suite, f"/v1/contacts/{contact_id}/subscriptions/email", {"status": "unsubscribed"})
    put(suite, f"/v1/contacts/{ids[2]}/blacklists/email", {"reason": "spam trap"})
    made = campaign(suite, segment_id, template(suite))
    assert made["status"] == "draft" and made["stats"]["queued"] == 0
    one = f"/v1/campaigns/{made['id']}"
    assert call(suite, "PATCH", one, 200, {"name": "Winter sale!"})["name"] == "Winter sale!"
    assert call(suite, "POST", one + "/start", 200)["status"] == "running"

    done = wait_for(
        lambda: (found := call(suite, "GET", one, 200))["status"] == "finished" and found,
        seconds=60,
        what="the campaign to finish",
    )
    assert done["stats"]["audience"] == 6
    assert done["stats"]["queued"] == 3
    assert done["stats"]["refused"] == {"blacklisted": 1, "unsubscribed": 2}

    refused = call(suite, "GET", one + "/recipients", 200, status="refused")["data"]
    assert {(r["contact_id"], r["reason"]) for r in refused} == {
        (ids[0], "unsubscribed"),
        (ids[1], "unsubscribed"),
        (ids[2], "blacklisted"),
    }
    listed = call(suite, "GET", one + "/recipients", 200, limit=4)
    rest = call(suite, "GET", one + "/recipients", 200, cursor=listed["next_cursor"])
    recipients = listed["data"] + rest["data"]
    assert sorted(r["contact_id"] for r in recipients) == sorted(ids)
    for recipient in recipients:
        if recipient["contact_id"] in ids[3:]:
            message = call(suite, "GET", f"/v1/messages/{recipient['message_id']}", 200)
            assert message["origin"] == "campaign"
            assert message["contact_id"] == recipient["contact_id"]
    for contact_id in ids[3:]:
        wait_for(lambda c=contact_id: provider_files(suite, c), what="the provider's file")
    wait_until_idle(suite)
    assert [len(provider_files(suite, c)) for c in ids] == [0, 0, 0, 1, 1, 1]
    # messaging's message_sent events, carrying the campaign, are counted once each.
    wait_for(lambda: call(suite, "GET", one, 200)["stats"]["sent"] == 3, what="sent counted")
    sent = call(suite, "GET", one + "/recipients", 200, status="sent")["data"]
    assert sorted(r["contact_id"] for r in sent) == sorted(ids[3:])
    # The member's data-subject export holds what campaigns keeps on it.
    export = call(suite, "GET", f"/v1/contacts/{ids[4]}/export", 200)
    (membership,) = export["campaigns"]
    assert membership["campaign_id"] == made["id"] and membership["status"] == "sent"
    assert membership["message_id"] in {m["id"] for m in export["messages"]}

    # An erased contact leaves no recipient row behind; the counters name nobody and stay.
    assert suite.http().delete(f"{suite.url}/v1/contacts/{ids[3]}", timeout=15).status_code == 204
    wait_for(
        lambda: ids[3] not in {r["contact_id"] for r in all_recipients(suite, one)},
        what="the erased contact's row gone",
    )
    assert call(suite, "GET", one, 200)["stats"]["queued"] == 3

    assert_problem(suite.http().patch(suite.url + one, json={"name": "x"}, timeout=15), 409)
    assert_problem(suite.http().delete(suite.url + one, timeout=15), 409)
    assert_problem(suite.http().post(suite.url + one + "/start", timeout=15), 409)
    assert_problem(
        suite.http().get(suite.url + one + "/recipients?status=lost", timeout=15), 422, "status"
    )


def test_pause_resume_and_cancel(suite):
    segment_id, _ = audience(suite, 3)
    made = campaign(suite, segment_id, template(suite), throttle_per_minute=1)
    one = f"/v1/campaigns/{made['id']}"
    assert_problem(suite.http().post(suite.url + one + "/pause", timeout=15), 409)
    call(suite, "POST", one + "/start", 200)
    wait_for(lambda: call(suite, "GET", one, 200)["stats"]["queued"] == 1, what="one queued")
    assert call(suite, "POST", one + "/pause", 200)["status"] == "paused"
    assert_problem(suite.http().post(suite.url + one + "/pause", timeout=15), 409)
    assert call(suite, "POST", one + "/resume", 200)["status"] == "running"
    assert call(suite, "POST", one + "/cancel", 200)["status"] == "cancelled"
    assert_problem(suite.http().post(suite.url + one + "/resume", timeout=15), 409)
    pending = call(suite, "GET", one + "/recipients", 200, status="pending")["data"]
    assert len(pending) == 2  # the throttle held them; cancelled, they never go
    assert call(suite, "GET", one, 200)["stats"]["queued"] == 1
    # A draft may be deleted.
    draft = campaign(suite, segment_id, template(suite))
    assert (
        suite.http().delete(f"{suite.url}/v1/campaigns/{draft['id']}", timeout=15).status_code
        == 204
    )
    assert_problem(suite.http().get(f"{suite.url}/v1/campaigns/{draft['id']}", timeout=15), 404)


def test_references_are_checked_at_create(suite):
    segment_id, _ = audience(suite, 1)
    body = {"name": "x", "channel": "email", "segment_id": segment_id}
    http = suite.http()
    answer = http.post(
        suite.url + "/v1/campaigns",
        json={**body, "template_id": template(suite, "sms")},
        timeout=15,
    )
    assert "sms" in assert_problem(answer, 422, "template_id")["errors"]["template_id"][0]
    answer = http.post(
        suite.url + "/v1/campaigns", json={**body, "template_id": "nope"}, timeout=15
    )
    assert_problem(answer, 422, "template_id")
    answer = http.post(
        suite.url + "/v1/campaigns",
        json={**body, "template_id": template(suite), "segment_id": "nope"},
        timeout=15,
    )
    assert_problem(answer, 422, "segment_id")
    answer = http.post(
        suite.url + "/v1/campaigns",
        json={**body, "template_id": template(suite), "schedule": {"local_time": "25:00"}},
        timeout=15,
    )
    assert_problem(answer, 422, "schedule.local_time")


def test_campaigns_need_their_scopes(suite):
    reader = key_with(suite, "campaigns:read")
    other = key_with(suite, "segments:read", "segments:write")
    assert suite.http(reader).get(suite.url + "/v1/campaigns", timeout=15).status_code == 200
    answer = suite.http(reader).post(suite.url + "/v1/campaigns", json={}, timeout=15)
    assert_problem(answer, 403)
    assert_problem(suite.http(other).get(suite.url + "/v1/campaigns", timeout=15), 403)


def opened(suite, contact_id: str) -> None:
    """The contact's email opened, as a mail client would: its tracking pixel fetched."""
    (path,) = provider_files(suite, contact_id)
    html = json.loads(path.read_text())["content"]["html"]
    pixel = re.search(r'src="https?://[^/"]+(/t/o/[^"]+)"', html).group(1)
    assert requests.get(suite.url + pixel, timeout=15).status_code == 200


def test_ab_test_sends_the_better_variant_to_the_rest_after_the_wait(suite):
    segment_id, ids = audience(suite, 8)
    templates = {"a": template(suite), "b": template(suite)}
    ab = {
        "variants": [{"name": name, "template_id": t} for name, t in templates.items()],
        "test_fraction": 0.5,
        "metric": "open",
        "wait_hours": 2,
    }
    made = campaign(suite, segment_id, templates["a"], ab=ab)
    one = f"/v1/campaigns/{made['id']}"
    call(suite, "POST", one + "/start", 200)
    wait_for(lambda: call(suite, "GET", one, 200)["stats"]["queued"] == 4, what="the test group")
    # Queued, or sent already: those with a message.
    tested = [r for r in call(suite, "GET", one + "/recipients", 200)["data"] if r["message_id"]]
    by_variant = {name: [r for r in tested if r["variant"] == name] for name in templates}
    assert [len(group) for group in by_variant.values()] == [2, 2]
    assert len(call(suite, "GET", one + "/recipients", 200, status="held")["data"]) == 4
    for recipient in by_variant["b"]:
        message = call(suite, "GET", f"/v1/messages/{recipient['message_id']}", 200)
        assert message["origin"] == "ab_test" and message["template_id"] == templates["b"]
        wait_for(lambda r=recipient: provider_files(suite, r["contact_id"]), what="the email")
        opened(suite, recipient["contact_id"])
    wait_for(lambda: call(suite, "GET", one, 200)["stats"]["open"] == 2, what="opens counted")
    tested_stats = call(suite, "GET", one, 200)
    assert tested_stats["status"] == "running"  # the rest waits
    variants = tested_stats["stats"]["variants"]
    assert (variants["a"]["queued"], variants["a"]["open"], variants["a"]["open_rate"]) == (2, 0, 0)
    assert (variants["b"]["queued"], variants["b"]["open"]) == (2, 2)

    clock = Path(suite.env["PLEXUS_CLOCK_FILE"])
    try:
        clock.write_text(str(2 * 3600 + 60))  # past the wait
        done = wait_for(
            lambda: (found := call(suite, "GET", one, 200))["status"] == "finished" and found,
            seconds=30,
            what="the rest sent",
        )
    finally:
        clock.write_text("0")
    assert done["winner"] == "b" and done["stats"]["queued"] == 8
    in_test = {r["contact_id"] for r in tested}
    everyone = call(suite, "GET", one + "/recipients", 200)["data"]
    rest = [r for r in everyone if r["contact_id"] not in in_test]
    assert len(rest) == 4
    for recipient in rest:
        message = call(suite, "GET", f"/v1/messages/{recipient['message_id']}", 200)
        assert recipient["variant"] == "b" and message["template_id"] == templates["b"]
