"""What campaigns, A/B tests and workflows get from messaging, against a running suite
of its own (the messaging settings are the whole suite's): the settings through the
gateway, and queue_batch called over RPC as the campaigns service calls it: one message
per key however often it is asked, eligibility refusals, frequency caps, a message held
by quiet hours and sent when they end, the contact's translation, and the trigger shown
with the message's activity item."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from plexus.rpc import RpcClient
from tests.e2e.conftest import sent_item, start_suite, stop_suite, suite_env
from tests.polling import wait_for

SETTINGS = "/v1/settings/messaging"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path_factory):
    """A suite whose held messages are looked at every second."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    data_dir = tmp_path_factory.mktemp(f"campaigns-{request.param}")
    env = {**suite_env(amqp_uri, data_dir, database_url), "PLEXUS_RELEASE_HELD_SECONDS": "1"}
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


@pytest.fixture(scope="module")
def rpc(suite):
    client = RpcClient(suite.env["PLEXUS_AMQP_URI"])
    yield lambda method, *args: client.call("messaging", method, args, {}, 30)
    client.close()


@pytest.fixture
def http(suite):
    http = suite.http()
    yield http
    # Every test starts without caps or quiet hours.
    assert http.put(suite.url + SETTINGS, json={}, timeout=15).status_code == 200


def contact(suite, http, **fields) -> dict:
    body = {"email": f"c-{uuid.uuid4().hex[:10]}@example.com", "first_name": "Olena", **fields}
    made = http.post(suite.url + "/v1/contacts", json=body, timeout=15)
    assert made.status_code == 201, made.text
    return made.json()


def template(suite, http) -> dict:
    body = {
        "name": f"autumn-{uuid.uuid4().hex[:6]}",
        "channel": "email",
        "subject": "Autumn prices, {{ first_name }}",
        "body": "<p>{{ data.offer }}</p>",
        "translations": {
            "uk": {"subject": "Осінні ціни, {{ first_name }}", "body": "<p>{{ data.offer }}</p>"}
        },
    }
    made = http.post(suite.url + "/v1/templates", json=body, timeout=15)
    assert made.status_code == 201, made.text
    return made.json()


def items(template_id: str, campaign: str, *contacts: dict) -> list[dict]:
    return [
        {
            "key": f"campaign:{campaign}:{c['id']}",
            "contact_id": c["id"],
            "channel": "email",
            "template_id": template_id,
            "origin": "campaign",
            "category": None,
            "trigger": {"campaign_id": campaign, "variant": "A"},
            "data": {"offer": "-20%"},
        }
        for c in contacts
    ]


def test_the_settings_through_the_gateway(suite, http):
    url = suite.url + SETTINGS
    defaults = http.get(url, timeout=15).json()
    assert (defaults["frequency_caps"], defaults["quiet_hours"]) == ([], None)
    assert defaults["default_timezone"] == "UTC"
    bad = http.put(
        url,
        json={"frequency_caps": [{"max": 0, "per_days": 7}], "default_timezone": "Mars/Base"},
        timeout=15,
    )
    assert bad.status_code == 422, bad.text
    assert set(bad.json()["errors"]) == {"frequency_caps.0.max", "default_timezone"}
    body = {
        "frequency_caps": [{"channel": "email", "max": 3, "per_days": 7}],
        "quiet_hours": {"start": "21:00", "end": "09:00"},
        "default_timezone": "Europe/Kyiv",
    }
    put = http.put(url, json=body, timeout=15)
    assert put.status_code == 200, put.text
    stored = put.json()
    assert stored == {**body, "updated_at": stored["updated_at"], "updated_by": "bootstrap"}
    assert stored["updated_at"]
    assert http.get(url, timeout=15).json() == put.json()


def test_queue_batch_one_message_a_key_refusals_translation_and_trigger(suite, http, rpc):
    made = template(suite, http)
    ann = contact(suite, http, language="uk")
    gone = contact(suite, http)
    listed = contact(suite, http)
    assert (
        http.put(
            f"{suite.url}/v1/contacts/{gone['id']}/subscriptions/email",
            json={"status": "unsubscribed", "reason": "too many"},
            timeout=15,
        ).status_code
        == 200
    )
    assert (
        http.put(
            f"{suite.url}/v1/contacts/{listed['id']}/blacklists/email",
            json={"reason": "asked"},
            timeout=15,
        ).status_code
        == 200
    )
    batch = items(made["id"], "c1", ann, gone, listed)

    first = rpc("queue_batch", batch, "campaigns")
    assert [(a["contact_id"], a["status"], a["reason"]) for a in first] == [
        (ann["id"], "queued", None),
        (gone["id"], "refused", "unsubscribed"),
        (listed["id"], "refused", "blacklisted"),
    ]
    assert rpc("queue_batch", batch, "campaigns") == first  # a retry: the same message
    assert len(rpc("contact_messages", ann["id"])["data"]) == 1

    message_url = f"{suite.url}/v1/messages/{first[0]['message_id']}"
    message = http.get(message_url, timeout=15).json()
    assert message["content"]["subject"] == "Осінні ціни, Olena"
    assert message["trigger"] == {"campaign_id": "c1", "variant": "A"}
    assert message["origin"] == "campaign"
    item = sent_item(suite, http, ann["id"])
    detail = http.get(f"{suite.url}/v1/activity/{item['id']}", timeout=15).json()
    assert detail["trigger"] == {"campaign_id": "c1", "variant": "A"}
    assert detail["message"]["trigger"] == detail["trigger"]


def test_a_frequency_cap_refuses_in_batches_and_direct_sends(suite, http, rpc):
    made = template(suite, http)
    ann = contact(suite, http)
    capped = {"frequency_caps": [{"channel": "email", "max": 1, "per_days": 1}]}
    assert http.put(suite.url + SETTINGS, json=capped, timeout=15).status_code == 200
    assert rpc("queue_batch", items(made["id"], "f1", ann), "campaigns")[0]["status"] == "queued"
    (again,) = rpc("queue_batch", items(made["id"], "f2", ann), "campaigns")
    assert (again["status"], again["reason"], again["message_id"]) == (
        "refused",
        "frequency_cap",
        None,
    )
    body = {
        "contact": {"id": ann["id"]},
        "channel": "email",
        "content": {"subject": "S", "text": "T"},
    }
    refused = http.post(suite.url + "/v1/messages", json={**body, "origin": "workflow"}, timeout=15)
    assert refused.status_code == 409 and "frequency_cap" in refused.json()["detail"], refused.text
    # A transactional message is never capped.
    assert http.post(suite.url + "/v1/messages", json=body, timeout=15).status_code == 202


def test_a_message_in_quiet_hours_waits_for_their_end_then_goes(suite, http, rpc):
    made = template(suite, http)
    ann = contact(suite, http)
    now = datetime.now(UTC)
    if now.second >= 50:  # leave the batch time to be queued inside the window
        time.sleep(61 - now.second)
        now = datetime.now(UTC)
    # The window began this minute and ends at the next: the hold lasts under a minute.
    quiet = {"start": now.strftime("%H:%M"), "end": (now + timedelta(minutes=1)).strftime("%H:%M")}
    assert (
        http.put(suite.url + SETTINGS, json={"quiet_hours": quiet}, timeout=15).status_code == 200
    )
    (held,) = rpc("queue_batch", items(made["id"], "q1", ann), "campaigns")
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert held["status"] == "queued"
    assert datetime.fromisoformat(held["held_until"].replace("Z", "+00:00")) == end
    message_url = f"{suite.url}/v1/messages/{held['message_id']}"
    message = http.get(message_url, timeout=15).json()
    assert message["status"] == "queued"
    assert message["history"][0]["details"]["held_until"] == held["held_until"]
    assert datetime.now(UTC) < end  # still held: nothing went out before the end
    sent = wait_for(
        lambda: (m := http.get(message_url, timeout=15).json())["status"] == "sent" and m,
        90,
        "the held message to be sent",
        every=0.5,
    )
    sent_at = datetime.fromisoformat(sent["history"][-1]["at"].replace("Z", "+00:00"))
    assert sent_at >= end
