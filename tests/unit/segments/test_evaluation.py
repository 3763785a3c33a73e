"""Rules evaluated over the projection, on SQLite and PostgreSQL: every kind of
condition as a set query, creation and edits of a segment (membership events, counts),
time-based rules at a fixed clock, preview and explain."""

from datetime import timedelta

import pytest

from plexus.contract import events
from plexus.errors import Invalid, NotFound
from plexus.timeutil import rfc3339
from services.segments.logic import definitions, inspection, periodic
from services.segments.logic.compiler import Clock
from tests.unit.segments.conftest import (
    CLOCK,
    NOW,
    activity,
    created,
    event,
    one_activity_event,
    one_contact_event,
)


@pytest.fixture
def people(run, contacts):
    """Four contacts with what rules read; {nickname: id}."""
    made = {
        "ann": contacts.make(
            email="ann@example.com",
            language="uk",
            birthday="1990-11-25",
            contact_score=12,
            address={"country": "UA", "city": "Lviv"},
            categories={"newsletter": True, "offers": False},
            variables={"plan": "pro", "seats": 5, "vip": True, "renewal": "2026-11-20"},
            subscriptions={"email": {"status": "subscribed"}},
        ),
        "bob": contacts.make(
            email="bob@test.org",
            language="en",
            birthday="1985-03-01",
            contact_score=3,
            status="inactive",
            variables={"plan": "free", "seats": 1},
            blacklists={"email": {"since": "2026-01-01", "reason": "x"}},
            subscriptions={"email": {"status": "unsubscribed"}},
        ),
        "cat": contacts.make(
            phone="+380501234567",
            created_at=rfc3339(NOW - timedelta(days=90)),
            subscriptions={"sms": {"status": "subscribed"}},
        ),
        "dan": contacts.make(user_id="dan-1", language="uk", first_name="Dan"),
    }
    for contact in made.values():
        run(one_contact_event, created(contact), contacts.fetch, CLOCK)
    ids = {name: contact["id"] for name, contact in made.items()}
    for _ in range(3):
        run(one_activity_event, activity(ids["ann"], "email", "open"), CLOCK)
    run(
        one_activity_event,
        activity(ids["dan"], name="viewed_pricing", occurred_at=rfc3339(NOW - timedelta(days=20))),
        CLOCK,
    )
    return ids


def who(run, people, rule, clock=CLOCK):
    found = run(inspection.preview, rule, clock)
    names = {value: key for key, value in people.items()}
    return sorted(names[i] for i in found["sample"])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "language", "op": "eq", "value": "uk"}, ["ann", "dan"]),
        ({"field": "language", "op": "ne", "value": "uk"}, ["bob", "cat"]),
        ({"field": "language", "op": "in", "value": ["en", "de"]}, ["bob"]),
        ({"field": "language", "op": "not_in", "value": ["en"]}, ["ann", "cat", "dan"]),
        ({"field": "contact_score", "op": "gt", "value": 5}, ["ann"]),
        ({"field": "contact_score", "op": "lte", "value": 3}, ["bob", "cat", "dan"]),
        ({"field": "email", "op": "exists"}, ["ann", "bob"]),
        ({"field": "email", "op": "exists", "value": False}, ["cat", "dan"]),
        ({"field": "email", "op": "contains", "value": "EXAMPLE"}, ["ann"]),
        ({"field": "email", "op": "starts_with", "value": "bo"}, ["bob"]),
        ({"field": "first_name", "op": "contains", "value": "%"}, []),
        ({"field": "address.country", "op": "eq", "value": "UA"}, ["ann"]),
        ({"field": "status", "op": "eq", "value": "inactive"}, ["bob"]),
        ({"field": "birthday", "op": "lt", "value": "1988-01-01"}, ["bob"]),
        ({"field": "birthday", "op": "birthday_in_days", "value": 3}, ["ann"]),
        ({"field": "created_at", "op": "more_than_days_ago", "value": 30}, ["cat"]),
        ({"field": "created_at", "op": "within_last_days", "value": 30}, ["ann", "bob", "dan"]),
        ({"field": "variables.plan", "op": "eq", "value": "pro"}, ["ann"]),
        ({"field": "variables.plan", "op": "ne", "value": "pro"}, ["bob", "cat", "dan"]),
        ({"field": "variables.seats", "op": "gte", "value": 2}, ["ann"]),
        ({"field": "variables.vip", "op": "eq", "value": True}, ["ann"]),
        ({"field": "variables.plan", "op": "exists"}, ["ann", "bob"]),
        ({"field": "variables.plan", "op": "in", "value": ["free", "team"]}, ["bob"]),
        ({"field": "variables.renewal", "op": "within_last_days", "value": 7}, ["ann"]),
        ({"subscribed": "email"}, ["ann"]),
        ({"subscribed": "sms"}, ["cat"]),
        ({"blacklisted": "email"}, ["bob"]),
        ({"category": "newsletter"}, ["ann"]),
        ({"category": "offers"}, []),
        ({"activity": {"channel": "email", "type": "open"}}, ["ann"]),
        ({"activity": {"channel": "email", "type": "open", "min_count": 4}}, []),
        ({"activity": {"name": "viewed_pricing"}}, ["dan"]),
        ({"activity": {"name": "viewed_pricing", "within_days": 7}}, []),
        ({"not": {"activity": {}}}, ["bob", "cat"]),
        (
            {
                "all": [
                    {"field": "language", "op": "eq", "value": "uk"},
                    {"not": {"subscribed": "email"}},
                ]
            },
            ["dan"],
        ),
        ({"any": [{"blacklisted": "email"}, {"subscribed": "sms"}]}, ["bob", "cat"]),
    ],
)
def test_each_condition_as_a_set_query(run, people, rule, expected):
    assert who(run, people, rule) == expected


def test_the_id_field(run, people):
    assert who(run, people, {"field": "id", "op": "in", "value": [people["bob"]]}) == ["bob"]


def test_a_new_segment_takes_every_match_at_once_and_says_so(run, people, outbox):
    segment = run(
        definitions.create_segment,
        {"name": "Ukrainian speakers", "rule": {"field": "language", "op": "eq", "value": "uk"}},
        "tester",
        CLOCK,
    )
    assert (segment["member_count"], segment["version"]) == (2, 1)
    assert sorted(outbox()) == sorted(
        [
            ("Ukrainian speakers", people["ann"], "added"),
            ("Ukrainian speakers", people["dan"], "added"),
        ]
    )
    edited = run(
        definitions.update_segment,
        segment["id"],
        {"rule": {"field": "language", "op": "eq", "value": "en"}},
        "editor",
        CLOCK,
    )
    assert (edited["member_count"], edited["version"]) == (1, 2)
    assert (edited["created_by"], edited["updated_by"]) == ("tester", "editor")
    assert sorted(outbox()[2:]) == sorted(
        [
            ("Ukrainian speakers", people["ann"], "dropped"),
            ("Ukrainian speakers", people["dan"], "dropped"),
            ("Ukrainian speakers", people["bob"], "added"),
        ]
    )
    page = run(definitions.members, segment["id"], 50, None)
    assert page == {"data": [people["bob"]], "next_cursor": None}


def test_a_bad_rule_is_refused_with_its_path(run):
    with pytest.raises(Invalid) as caught:
        run(
            definitions.create_segment,
            {
                "name": "x",
                "rule": {
                    "all": [
                        {"subscribed": "email"},
                        {"field": "language", "op": "eq", "value": "uk"},
                        {"field": "language", "op": "nope"},
                    ]
                },
            },
            "tester",
            CLOCK,
        )
    assert list(caught.value.errors) == ["rule.all.2.op"]
    with pytest.raises(Invalid) as caught:
        run(
            definitions.create_segment,
            {"rule": {"subscribed": "email"}, "extra": 1},
            "tester",
            CLOCK,
        )
    assert sorted(caught.value.errors) == ["extra", "name"]


def test_changes_reach_membership_one_contact_at_a_time(run, people, contacts, outbox):
    segment = run(
        definitions.create_segment,
        {
            "name": "Openers",
            "rule": {
                "all": [{"activity": {"channel": "email", "type": "open"}}, {"subscribed": "email"}]
            },
        },
        "tester",
        CLOCK,
    )
    assert segment["member_count"] == 1
    run(
        one_contact_event,
        event(events.SUBSCRIPTION_CHANGED, people["ann"], channel="email", status="unsubscribed"),
        contacts.fetch,
        CLOCK,
    )
    run(one_activity_event, activity(people["dan"], "email", "open"), CLOCK)
    run(
        one_contact_event,
        event(events.SUBSCRIPTION_CHANGED, people["dan"], channel="email", status="subscribed"),
        contacts.fetch,
        CLOCK,
    )
    assert outbox()[1:] == [
        ("Openers", people["ann"], "dropped"),
        ("Openers", people["dan"], "added"),
    ]
    assert run(definitions.get_segment, segment["id"]).member_count == 1
    run(one_contact_event, event(events.CONTACT_DELETED, people["dan"]), contacts.fetch, CLOCK)
    assert run(definitions.get_segment, segment["id"]).member_count == 0
    assert run(definitions.contact_segments, people["dan"])["data"] == []


def test_the_periodic_pass_applies_what_the_clock_changed(run, people, outbox):
    segment = run(
        definitions.create_segment,
        {"name": "New", "rule": {"field": "created_at", "op": "within_last_days", "value": 30}},
        "tester",
        CLOCK,
    )
    assert segment["member_count"] == 3
    assert run(periodic.time_based_segments) == [segment["id"]]
    later = Clock(NOW + timedelta(days=31))
    assert run(periodic.pass_segment, segment["id"], later) == (0, 3)
    assert run(definitions.read_segment, segment["id"])["member_count"] == 0
    assert [change for _, _, change in outbox()] == ["added"] * 3 + ["dropped"] * 3
    run(periodic.forget_old_events, later)


def test_time_based_rules_follow_the_clock(run, people):
    rule = {"field": "birthday", "op": "birthday_in_days", "value": 0}
    assert who(run, people, rule, Clock(NOW + timedelta(days=2))) == ["ann"]
    assert who(run, people, rule, Clock(NOW + timedelta(days=98))) == ["bob"]


def test_explain_mirrors_the_rule(run, people):
    segment = run(
        definitions.create_segment,
        {
            "name": "Mixed",
            "rule": {
                "all": [
                    {"field": "language", "op": "eq", "value": "uk"},
                    {"not": {"subscribed": "email"}},
                ]
            },
        },
        "tester",
        CLOCK,
    )
    ann = run(inspection.explain, segment["id"], people["ann"], CLOCK)
    assert ann["member"] is False
    assert ann["explain"] == {
        "op": "all",
        "holds": False,
        "parts": [
            {"field": "language", "op": "eq", "value": "uk", "holds": True},
            {"op": "not", "holds": False, "parts": [{"subscribed": "email", "holds": True}]},
        ],
    }
    assert run(inspection.explain, segment["id"], people["dan"], CLOCK)["member"] is True
    with pytest.raises(NotFound):
        run(inspection.explain, segment["id"], "nobody", CLOCK)


def test_matches_answers_for_one_contact_now(run, people):
    """segments.matches, a workflow's if / exit_if: the rule for one contact at the clock."""
    rule = {"field": "language", "op": "eq", "value": "uk"}
    holds = {
        name: run(inspection.matches, rule, contact_id, CLOCK)
        for name, contact_id in people.items()
    }
    assert holds == {name: name in who(run, people, rule, CLOCK) for name in people}
    assert set(holds.values()) == {True, False}
    assert run(inspection.matches, rule, "nobody", CLOCK) is False
