"""Workflows over HTTP, on SQLite and on PostgreSQL, with the suite's clock moved ahead
(plexus/clock.py) instead of waiting: a welcome workflow (contact added -> wait -> email ->
if opened within a day then score +10 else SMS) runs for contacts created through the
API; a segment-entered workflow whose exit_if ends one contact's run; a birthday workflow
sends at 10:00 local time in two time zones; bad steps are 422 naming their path."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_until_idle
from tests.e2e.test_campaigns_api import call, opened, provider_files, put, template
from tests.e2e.test_contacts_api import assert_problem, create, unique_email
from tests.polling import wait_for

HOUR, DAY = 3600, 86400
OPENED = {"activity": {"channel": "email", "type": "open", "within_days": 1}}


@pytest.fixture(autouse=True)
def quiet(suite):
    wait_until_idle(suite)


@contextmanager
def clock_ahead(suite) -> Iterator:
    """Moves the suite's clock (seconds ahead of now) while the block runs; then back."""
    clock = Path(suite.env["PLEXUS_CLOCK_FILE"])
    try:
        yield lambda seconds: clock.write_text(str(seconds))
    finally:
        clock.write_text("0")


def workflow(suite, trigger: dict, steps: list) -> dict:
    body = {"name": f"wf-{uuid.uuid4().hex[:6]}", "trigger": trigger, "steps": steps}
    made = call(suite, "POST", "/v1/workflows", 201, body)
    assert made["status"] == "draft"
    one = f"/v1/workflows/{made['id']}"
    assert call(suite, "POST", one + "/activate", 200)["status"] == "active"
    return made


def run_of(suite, workflow_id: str, contact_id: str) -> dict | None:
    found = call(suite, "GET", f"/v1/workflows/{workflow_id}/runs", 200, contact_id=contact_id)
    return found["data"][0] if found["data"] else None


def wait_run(suite, workflow_id: str, contact_id: str, status: str, seconds=30) -> dict:
    return wait_for(
        lambda: (run := run_of(suite, workflow_id, contact_id)) and run["status"] == status and run,
        seconds=seconds,
        what=f"the run {status}",
    )


def outcomes(run: dict) -> list[tuple[str, str]]:
    return [(entry["step"], entry["outcome"]) for entry in run["history"]]


def subscribed_contact(suite, **fields) -> dict:
    phone = f"+38050{random.randrange(10**6, 10**7)}"
    contact = create(suite, email=unique_email(), phone=phone, **fields)
    for channel in ("email", "sms"):
        put(
            suite, f"/v1/contacts/{contact['id']}/subscriptions/{channel}", {"status": "subscribed"}
        )
    return contact


def message_of(suite, run: dict, step: str) -> dict:
    """The message a run's send step queued, found in the contact's feed by its trigger
    (once activity has the message's first event)."""

    def found():
        path = f"/v1/contacts/{run['contact_id']}/activity"
        for item in call(suite, "GET", path, 200, origin="workflow")["data"]:
            full = call(suite, "GET", f"/v1/activity/{item['id']}", 200)
            trigger = full.get("trigger") or {}
            if trigger.get("run_id") == run["id"] and trigger.get("step") == step:
                return full
        return None

    return wait_for(found, what=f"the message of step {step} in the feed")


def test_welcome_workflow_for_contacts_created_through_the_api(suite):
    email, sms = template(suite), template(suite, "sms")
    steps = [
        {"wait": {"hours": 1}},
        {"send": {"channel": "email", "template_id": email}},
        {"wait": {"days": 1}},
        {
            "if": OPENED,
            "then": [{"score": {"add": 10}}],
            "else": [{"send": {"channel": "sms", "template_id": sms}}],
        },
    ]
    made = workflow(suite, {"contact_added": True}, steps)
    one = f"/v1/workflows/{made['id']}"
    assert_problem(suite.http().patch(suite.url + one, json={"steps": []}, timeout=15), 409)
    reader, skipper = subscribed_contact(suite), subscribed_contact(suite)
    for contact in (reader, skipper):
        wait_run(suite, made["id"], contact["id"], "waiting")
    assert not provider_files(suite, reader["id"])  # the hour's wait holds it

    with clock_ahead(suite) as ahead:
        ahead(HOUR + 60)
        for contact in (reader, skipper):
            wait_for(lambda c=contact: provider_files(suite, c["id"]), what="the welcome email")
        opened(suite, reader["id"])
        # segments knows of the open before the day is over.
        rule = {"all": [OPENED, {"field": "id", "op": "eq", "value": reader["id"]}]}
        wait_for(
            lambda: call(suite, "POST", "/v1/segments/preview", 200, {"rule": rule})["count"],
            what="the open known to segments",
        )
        ahead(HOUR + DAY + 120)
        read = wait_run(suite, made["id"], reader["id"], "completed")
        skipped = wait_run(suite, made["id"], skipper["id"], "completed")

    waited_and_sent = ["waiting", "waited", "queued", "waiting", "waited"]
    assert [outcome for _, outcome in outcomes(read)] == [*waited_and_sent, "then", "score +10"]
    assert outcomes(read)[-1] == ("3.then.0", "score +10")
    assert outcomes(skipped)[-2:] == [("3", "else"), ("3.else.0", "queued")]
    assert call(suite, "GET", f"/v1/contacts/{reader['id']}", 200)["contact_score"] == 10
    assert call(suite, "GET", f"/v1/contacts/{skipper['id']}", 200)["contact_score"] == 0
    updated = wait_for(
        lambda: call(suite, "GET", f"/v1/contacts/{reader['id']}/activity", 200, type="updated")[
            "data"
        ],
        what="the score in the feed",
    )
    assert updated[0]["channel"] == "contact"
    assert updated[0]["details"]["actor"] == f"workflow:{made['id']}"
    text = message_of(suite, skipped, "3.else.0")
    assert text["channel"] == "sms" and text["origin"] == "workflow"
    assert text["trigger"]["workflow_id"] == made["id"]
    assert set(text["trigger"]["cause"]) == {"event_id"}
    assert len(provider_files(suite, reader["id"])) == 1  # one welcome, never twice
    stats = call(suite, "GET", one, 200)["stats"]
    assert stats == {"entered": 2, "active": 0, "completed": 2, "exited": 0}
    export = call(suite, "GET", f"/v1/contacts/{reader['id']}/export", 200)
    assert [run["id"] for run in export["workflow_runs"]] == [read["id"]]
    assert export["workflow_runs"][0]["history"] == read["history"]
    call(suite, "POST", one + "/pause", 200)


def test_segment_entered_workflow_with_exit_if(suite):
    tag = f"wf-{uuid.uuid4().hex[:10]}"
    rule = {"field": "last_name", "op": "eq", "value": tag}
    segment = call(suite, "POST", "/v1/segments", 201, {"name": tag, "rule": rule})
    steps = [
        {"wait": {"minutes": 30}},
        {"exit_if": {"field": "first_name", "op": "eq", "value": "Leaver"}},
        {"send": {"channel": "email", "template_id": template(suite)}},
    ]
    made = workflow(suite, {"segment_entered": segment["id"]}, steps)
    stayer = subscribed_contact(suite, last_name=tag, first_name="Stayer")
    leaver = subscribed_contact(suite, last_name=tag, first_name="Maybe")
    for contact in (stayer, leaver):
        wait_run(suite, made["id"], contact["id"], "waiting")
    call(suite, "PATCH", f"/v1/contacts/{leaver['id']}", 200, {"first_name": "Leaver"})
    wait_until_idle(suite)  # the new first name projected into segments
    with clock_ahead(suite) as ahead:
        ahead(31 * 60)
        exited = wait_run(suite, made["id"], leaver["id"], "exited")
        kept = wait_run(suite, made["id"], stayer["id"], "completed")
    assert outcomes(exited)[-1] == ("1", "exited")
    assert outcomes(kept)[-2:] == [("1", "stayed"), ("2", "queued")]
    message = message_of(suite, kept, "2")
    assert message["trigger"]["cause"] == {"segment_id": segment["id"]}
    assert not provider_files(suite, leaver["id"])
    assert call(suite, "GET", f"/v1/workflows/{made['id']}", 200)["stats"]["exited"] == 1
    call(suite, "POST", f"/v1/workflows/{made['id']}/pause", 200)


def test_birthday_workflow_sends_at_ten_local_time_in_two_zones(suite):
    """Tokyo (+09:00) and New York (-05:00): each run starts as the contact's local
    birthday begins and its email goes at 10:00 there, 14 hours apart."""
    birthday = (datetime.now(UTC) + timedelta(days=3)).date()
    steps = [
        {"wait_until_local": "10:00"},
        {"send": {"channel": "email", "template_id": template(suite)}},
    ]
    made = workflow(suite, {"date_field": "birthday"}, steps)
    born = birthday.replace(year=1992).isoformat()
    tokyo = subscribed_contact(suite, birthday=born, timezone="+09:00")
    new_york = subscribed_contact(suite, birthday=born, timezone="-05:00")
    wait_until_idle(suite)  # campaigns has their birthdays

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(birthday, time(hour, minute), UTC)

    def due(run: dict) -> datetime:
        return datetime.fromisoformat(run["due_at"])

    with clock_ahead(suite) as ahead:

        def move_to(moment: datetime) -> None:
            ahead((moment - datetime.now(UTC)).total_seconds())

        move_to(at(0))  # 09:00 in Tokyo on the day, 19:00 the day before in New York
        assert due(wait_run(suite, made["id"], tokyo["id"], "waiting")) == at(1)
        move_to(at(1, 1))
        wait_for(lambda: provider_files(suite, tokyo["id"]), what="Tokyo's email")
        assert run_of(suite, made["id"], new_york["id"]) is None
        move_to(at(5, 1))  # 00:01 in New York
        assert due(wait_run(suite, made["id"], new_york["id"], "waiting")) == at(15)
        assert not provider_files(suite, new_york["id"])
        move_to(at(15, 1))
        sent = wait_run(suite, made["id"], new_york["id"], "completed")
    assert outcomes(sent)[-1] == ("1", "queued")
    wait_for(lambda: provider_files(suite, new_york["id"]), what="New York's email")
    wait_until_idle(suite)
    assert len(provider_files(suite, new_york["id"])) == 1
    assert len(provider_files(suite, tokyo["id"])) == 1
    message = message_of(suite, sent, "1")
    assert message["trigger"]["cause"] == {"date_field": "birthday"}
    call(suite, "POST", f"/v1/workflows/{made['id']}/pause", 200)


def test_bad_steps_are_422_naming_the_path(suite):
    body = {
        "name": "bad",
        "trigger": {"contact_added": True},
        "steps": [
            {"wait": {"weeks": 2}},
            {"if": {"field": "nope", "op": "eq", "value": 1}, "then": []},
            {"send": {"channel": "email", "template_id": "missing"}},
        ],
    }
    answer = suite.http().post(suite.url + "/v1/workflows", json=body, timeout=15)
    assert_problem(answer, 422, "steps.0.wait")
    body["steps"] = body["steps"][1:]
    answer = suite.http().post(suite.url + "/v1/workflows", json=body, timeout=15)
    problem = assert_problem(answer, 422, "steps.1.send.template_id")
    assert any(path.startswith("steps.0.if") for path in problem["errors"]), problem
    answer = suite.http().post(
        suite.url + "/v1/workflows",
        json={**body, "trigger": {"event": "x", "contact_added": True}},
        timeout=15,
    )
    assert_problem(answer, 422, "trigger")
