"""Workflows through the logic, as the service's consumers and timer run them, on both
databases: a welcome workflow (contact added -> wait -> email -> if opened then score
else SMS) started by contact_created, moved by the timer only when due, each step's
outcome in the history; one run under way per contact; a redelivered event starts
nothing; a re-run after a crash sends nothing twice; exit_if ends a run; bad steps are
422 naming their path; steps do not change while active."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plexus.errors import Conflict, Invalid, Unavailable
from plexus.timeutil import rfc3339
from services.campaigns.logic import dates, runs, steps, triggers, workflows
from tests.unit.campaigns.conftest import NOW

OPENED = {"activity": {"channel": "email", "type": "open", "within_days": 1}}
WELCOME = [
    {"wait": {"hours": 1}},
    {"send": {"channel": "email", "template_id": "t-email"}},
    {"wait": {"days": 1}},
    {
        "if": OPENED,
        "then": [{"score": {"add": 10}}],
        "else": [{"send": {"channel": "sms", "template_id": "t-sms"}}],
    },
]


class FakeRules:
    """segments' rule check and evaluation: a rule holds for the contacts listed."""

    def __init__(self):
        self.holding: dict[str, set[str]] = {}  # json of the rule -> contact ids
        self.known = {"seg"}

    def exists(self, segment_id):
        return segment_id in self.known

    def rule_problems(self, rule):
        return {} if "bad" not in rule else {"rule.bad": ["Unknown field."]}

    def matches(self, rule, contact_id):
        return contact_id in self.holding.get(repr(rule), set())


class FakeScores:
    def __init__(self):
        self.scores: dict[str, float] = {}
        self.keys: set[str] = set()

    def add_score(self, contact_id, add, actor, key):
        assert actor.startswith("workflow:")
        if key not in self.keys:
            self.keys.add(key)
            self.scores[contact_id] = self.scores.get(contact_id, 0) + add

    def timezones(self, contact_ids):
        return dict.fromkeys(contact_ids, "Europe/Kyiv")


@pytest.fixture
def rules():
    return FakeRules()


@pytest.fixture
def scores():
    return FakeScores()


@pytest.fixture
def services(messaging, rules, scores):
    return runs.Services(messaging, rules, scores)


def created(contact_id: str, event_id: str) -> dict:
    return {"event": "contact_created", "event_id": event_id, "contact_id": contact_id}


def make(tx, run, messaging, rules, trigger=None, body=None) -> dict:
    data = body or {"name": "Welcome", "trigger": trigger or {"contact_added": True}}
    data.setdefault("steps", WELCOME)
    workflow = workflows.new_workflow(tx, data, messaging, rules)
    assert run(workflows.act, workflow["id"], "activate")["status"] == "active"
    return workflow


def history(run, workflow_id, contact_id) -> tuple[dict, list[tuple[str, str]]]:
    (found,) = run(workflows.list_runs, workflow_id, contact_id, 50, None)["data"]
    return found, [(h["step"], h["outcome"]) for h in found["history"]]


def test_welcome_workflow_waits_sends_and_branches(tx, run, messaging, rules, services):
    workflow = make(tx, run, messaging, rules)
    events = [created("c1", "e1"), created("c2", "e2"), created("c1", "e1")]
    assert run(triggers.on_trigger_events, events, NOW) == 2
    runs.advance_pass(tx, NOW, services, 10)
    assert messaging.items == []  # the first wait holds them
    assert runs.advance_pass(tx, NOW + timedelta(minutes=59), services, 10) == 0
    runs.advance_pass(tx, NOW + timedelta(hours=1), services, 10)
    assert sorted(i["contact_id"] for i in messaging.items) == ["c1", "c2"]
    assert messaging.calls == 1  # the chunk's sends in one queue_batch
    email = messaging.items[0]
    assert email["origin"] == "workflow" and email["key"].endswith(":1")
    assert email["trigger"]["workflow_id"] == workflow["id"]
    assert email["trigger"]["step"] == "1" and email["trigger"]["cause"]["event_id"] in ("e1", "e2")

    rules.holding[repr(OPENED)] = {"c1"}
    later = NOW + timedelta(hours=25)
    runs.advance_pass(tx, later, services, 10)
    assert services.contacts.scores == {"c1": 10}
    assert [i["contact_id"] for i in messaging.items if i["channel"] == "sms"] == ["c2"]
    found, steps_done = history(run, workflow["id"], "c1")
    assert found["status"] == "completed"
    assert steps_done == [
        ("0", "waiting"),
        ("0", "waited"),
        ("1", "queued"),
        ("2", "waiting"),
        ("2", "waited"),
        ("3", "then"),
        ("3.then.0", "score +10"),
    ]
    assert history(run, workflow["id"], "c2")[1][-2:] == [("3", "else"), ("3.else.0", "queued")]
    stats = run(workflows.read_workflow, workflow["id"])["stats"]
    assert stats == {"entered": 2, "active": 0, "completed": 2, "exited": 0}
    # Over: the same contact may enter again; under way, not twice.
    assert run(triggers.on_trigger_events, [created("c1", "e3"), created("c1", "e4")], later) == 1


def test_a_rerun_after_a_crash_sends_nothing_twice(tx, run, messaging, rules, services):
    body = {
        "name": "Now",
        "trigger": {"contact_added": True},
        "steps": [{"send": {"channel": "email", "template_id": "t-email"}}],
    }
    make(tx, run, messaging, rules, body=body)
    run(triggers.on_trigger_events, [created("c1", "e1")], NOW)
    messaging.crash_after_commit = True
    with pytest.raises(Unavailable):
        runs.advance_pass(tx, NOW, services, 10)
    runs.advance_pass(tx, NOW, services, 10)
    assert len(messaging.items) == 1 and messaging.calls == 2


def test_exit_if_ends_the_run(tx, run, messaging, rules, services):
    rule = {"field": "status", "op": "eq", "value": "inactive"}
    body = {
        "name": "Entered",
        "trigger": {"segment_entered": "seg"},
        "steps": [{"exit_if": rule}, {"send": {"channel": "email", "template_id": "t-email"}}],
    }
    workflow = make(tx, run, messaging, rules, body=body)
    rules.holding[repr(rule)] = {"c1"}
    moved = {
        "event": "segment_membership_changed",
        "event_id": "s1",
        "segment_id": "seg",
        "change": "added",
        "contact_ids": ["c1", "c2"],
    }
    run(triggers.on_trigger_events, [moved], NOW)
    runs.advance_pass(tx, NOW, services, 10)
    assert [i["contact_id"] for i in messaging.items] == ["c2"]
    assert messaging.items[0]["trigger"]["cause"] == {"segment_id": "seg"}
    assert history(run, workflow["id"], "c1")[0]["status"] == "exited"


def test_a_paused_workflow_starts_and_moves_nothing(tx, run, messaging, rules, services):
    workflow = make(tx, run, messaging, rules)
    run(triggers.on_trigger_events, [created("c1", "e1")], NOW)
    run(workflows.act, workflow["id"], "pause")
    assert run(triggers.on_trigger_events, [created("c2", "e2")], NOW) == 0
    runs.advance_pass(tx, NOW + timedelta(days=3), services, 10)
    assert messaging.items == []
    with pytest.raises(Conflict):
        run(workflows.act, workflow["id"], "pause")


def test_bad_steps_are_named_by_path(tx, run, messaging, rules):
    body = {
        "name": "Bad",
        "trigger": {"contact_added": True},
        "steps": [
            {"wait": {"weeks": 1}},
            {"if": {"bad": 1}, "then": [{"send": {"channel": "fax", "template_id": "x"}}]},
            {"send": {"channel": "email", "template_id": "t-sms"}},
            {"jump": 3},
        ],
    }
    with pytest.raises(Invalid) as shape:
        workflows.new_workflow(tx, body, messaging, rules)
    assert sorted(shape.value.errors) == ["steps.0.wait", "steps.1.then.0.send.channel", "steps.3"]
    body["steps"] = body["steps"][1:3]
    body["steps"][0]["then"][0]["send"]["channel"] = "email"
    with pytest.raises(Invalid) as references:
        workflows.new_workflow(tx, body, messaging, rules)
    assert sorted(references.value.errors) == [
        "steps.0.if.bad",
        "steps.0.then.0.send.template_id",
        "steps.1.send.template_id",
    ]
    with pytest.raises(Invalid) as trigger:
        workflows.new_workflow(tx, {**body, "trigger": {}}, messaging, rules)
    assert "trigger" in trigger.value.errors


def test_steps_change_only_while_not_active(tx, run, messaging, rules):
    workflow = make(tx, run, messaging, rules)
    one = workflow["id"]
    renamed = workflows.change_workflow(tx, one, {"name": "Hello"}, messaging, rules)
    assert renamed["name"] == "Hello"
    with pytest.raises(Conflict):
        workflows.change_workflow(tx, one, {"steps": []}, messaging, rules)
    with pytest.raises(Conflict):
        run(workflows.delete_workflow, one)
    run(workflows.act, one, "pause")
    assert workflows.change_workflow(tx, one, {"steps": []}, messaging, rules)["steps"] == []
    run(workflows.delete_workflow, one)


def test_following_leaves_finished_branches():
    flow = [{"if": {}, "then": [{"score": {"add": 1}}], "else": []}, {"wait": {"days": 1}}]
    assert steps.following(flow, "0.then.0") == "1"
    assert steps.branch_start(flow, "0", "else") == "1"
    assert steps.following(flow, "1") is None


def test_birthdays_start_runs_as_each_local_day_begins(tx, run, messaging, rules, services):
    body = {
        "name": "Birthday",
        "trigger": {"date_field": "birthday", "days_before": 1},
        "steps": [{"wait_until_local": "10:00"}],
    }
    workflow = make(tx, run, messaging, rules, body=body)
    contact = {"birthday": "1990-12-02", "timezone": "Asia/Tokyo"}
    made = [
        {"event": "contact_created", "event_id": "e1", "contact_id": "tokyo", "contact": contact},
        {"event": "contact_created", "event_id": "e2", "contact_id": "utc", "contact": {}},
        {
            "event": "contact_updated",
            "event_id": "e3",
            "contact_id": "utc",
            "changed": {"birthday": "1980-12-02"},
        },
    ]
    run(dates.on_contact_events, made)
    # 15:30 UTC on 30 November: 1 December began in Tokyo (00:30), not in UTC.
    evening = NOW.replace(hour=15, minute=30)
    assert run(dates.check_dates, evening, "UTC") == 1
    assert run(dates.check_dates, evening + timedelta(hours=1), "UTC") == 0  # once a day
    runs.advance_pass(tx, evening, services, 10)
    # 10:00 in Tokyo (the zone campaigns keeps, not contacts' answer) is 01:00 UTC.
    (tokyo,) = run(workflows.list_runs, workflow["id"], "tokyo", 10, None)["data"]
    assert tokyo["status"] == "waiting"
    assert tokyo["due_at"].startswith(rfc3339(NOW.replace(day=1, month=12, hour=1))[:16])
    assert run(dates.check_dates, evening + timedelta(hours=9), "UTC") == 1  # UTC's day
    run(
        dates.on_contact_events,
        [{"event": "contact_deleted", "event_id": "e4", "contact_id": "utc"}],
    )
    assert run(dates.check_dates, evening + timedelta(days=1, hours=9), "UTC") == 0


def test_a_custom_event_by_name_starts_a_run(tx, run, messaging, rules, services):
    body = {
        "name": "Paid",
        "trigger": {"event": "order_paid"},
        "steps": [{"send": {"channel": "email", "template_id": "t-email"}}],
    }
    make(tx, run, messaging, rules, body=body)
    items = [
        {
            "item_id": "i1",
            "contact_id": "c1",
            "channel": "custom",
            "type": "event",
            "name": "order_paid",
        },
        {
            "item_id": "i2",
            "contact_id": "c2",
            "channel": "custom",
            "type": "event",
            "name": "other",
        },
        {"item_id": "i3", "contact_id": "c3", "channel": "email", "type": "open", "name": None},
    ]
    recorded = {"event": "activity_recorded", "event_id": "a1", "items": items}
    assert run(triggers.on_trigger_events, [recorded], NOW) == 1
    runs.advance_pass(tx, NOW, services, 10)
    assert [(i["contact_id"], i["trigger"]["cause"]) for i in messaging.items] == [
        ("c1", {"event_id": "i1"})
    ]


def test_two_processes_never_claim_the_same_runs(tx, run, messaging, rules, database_url):
    """PostgreSQL: runs one transaction holds (FOR UPDATE SKIP LOCKED, as a chunk is held
    over its calls) are skipped by another's claim, which takes the others."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer process; the claim is PostgreSQL's")
    make(tx, run, messaging, rules)
    run(triggers.on_trigger_events, [created(f"c{n}", f"e{n}") for n in range(4)], NOW)
    with tx() as first:
        held = {r.id for r in runs.due_runs(first, NOW, 2)}
        with tx() as second:
            other = {r.id for r in runs.due_runs(second, NOW, 10)}
    assert len(held) == 2 and len(other) == 2 and not held & other
