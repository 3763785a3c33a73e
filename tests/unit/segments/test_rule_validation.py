"""The rule language's checks: a good rule passes, and every mistake is named by its
path in the body, all at once."""

import pytest

from plexus.errors import Invalid
from services.segments.logic.validation import check_rule, validate_rule

GOOD = [
    {"field": "language", "op": "eq", "value": "uk"},
    {"all": [{"subscribed": "email"}, {"not": {"blacklisted": "email"}}]},
    {
        "any": [
            {"category": "newsletter"},
            {"field": "variables.plan", "op": "in", "value": ["pro", "team"]},
        ]
    },
    {"activity": {"channel": "email", "type": "open", "within_days": 30, "min_count": 2}},
    {"field": "birthday", "op": "birthday_in_days", "value": 7},
    {"field": "created_at", "op": "more_than_days_ago", "value": 30},
    {"field": "created_at", "op": "gt", "value": "2026-01-01T00:00:00Z"},
    {"field": "address.country", "op": "exists"},
    {"field": "contact_score", "op": "gte", "value": 10},
    {"field": "email", "op": "contains", "value": "@example."},
]


@pytest.mark.parametrize("rule", GOOD)
def test_good_rules_pass(rule):
    assert check_rule(rule) == {}


@pytest.mark.parametrize(
    ("rule", "paths"),
    [
        (
            {
                "all": [
                    {"subscribed": "email"},
                    {"field": "language", "op": "eq", "value": "uk"},
                    {"field": "language", "op": "like", "value": "u"},
                ]
            },
            ["rule.all.2.op"],
        ),
        ({"any": []}, ["rule.any"]),
        ({"not": {"field": "shoe_size", "op": "eq", "value": 1}}, ["rule.not.field"]),
        ({"subscribed": "fax"}, ["rule.subscribed"]),
        ({"blacklisted": "sms"}, ["rule.blacklisted"]),
        (
            {"activity": {"channel": "pigeon", "within_days": 0, "colour": 1}},
            ["rule.activity.channel", "rule.activity.colour", "rule.activity.within_days"],
        ),
        ({"field": "contact_score", "op": "eq", "value": "high"}, ["rule.value"]),
        ({"field": "birthday", "op": "eq", "value": "yesterday"}, ["rule.value"]),
        ({"field": "language", "op": "gt", "value": "uk"}, ["rule.op"]),
        ({"field": "language", "op": "within_last_days", "value": 3}, ["rule.op"]),
        ({"field": "created_at", "op": "birthday_in_days", "value": 3}, ["rule.op"]),
        ({"field": "birthday", "op": "birthday_in_days", "value": 400}, ["rule.value"]),
        ({"field": "language", "op": "in", "value": []}, ["rule.value"]),
        ({"field": "language", "op": "in", "value": ["uk", 3]}, ["rule.value.1"]),
        ({"all": [{"subscribed": "email", "category": "x"}]}, ["rule.all.0"]),
        ("everyone", ["rule"]),
        ({"fields": "language"}, ["rule.fields"]),
    ],
)
def test_a_bad_rule_names_each_path(rule, paths):
    assert sorted(check_rule(rule)) == paths


def test_invalid_carries_the_paths():
    with pytest.raises(Invalid) as caught:
        validate_rule({"all": [{"field": "language", "op": "eq"}]})
    assert list(caught.value.errors) == ["rule.all.0.value"]


def test_depth_and_size_are_bounded():
    deep = {"field": "language", "op": "exists"}
    for _ in range(12):
        deep = {"not": deep}
    assert any("deeper" in m for ms in check_rule(deep).values() for m in ms)
    wide = {"any": [{"subscribed": "email"}] * 150}
    assert "rule.any.99" in check_rule(wide)
