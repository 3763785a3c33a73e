"""Checking a rule of the segment language (plexus.contract.segments) before it is stored
or compiled: every problem is reported at once, under its path in the body
("rule.all.2.op"), so the gateway answers 422 naming it."""

from __future__ import annotations

from datetime import date, datetime

from marshmallow import ValidationError

from plexus.contract import vocab
from plexus.contract.activity import parse_rfc3339
from plexus.contract.segments import (
    BIRTHDAY_OP,
    COMPARISONS,
    DATE,
    DAY_OPS,
    FIELDS,
    LISTS,
    MAX_CONDITIONS,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_LIST_VALUES,
    MAX_RULE_VALUES,
    MOMENT,
    NUMBER,
    OPS,
    STRING,
    TEXT_OPS,
    VARIABLE_PREFIX,
)
from plexus.parsing import invalid

GROUPS = ("all", "any", "not")
FLAGS = {"subscribed": vocab.MESSAGE_CHANNELS, "blacklisted": vocab.BLACKLISTS, "category": None}
ACTIVITY_KEYS = ("channel", "type", "name", "origin", "within_days", "min_count")
EVERY_TYPE = frozenset(t for types in vocab.ACTIVITY_TYPES.values() for t in types)
ORDERED = (NUMBER, DATE, MOMENT, None)  # None: a variable, whose kind is its value's


class _Checker:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}
        self.conditions = 0
        self.values = 0  # of every list so far

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def rule(self, node, path: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.fail(path, f"nested deeper than {MAX_DEPTH}")
            return
        if not isinstance(node, dict) or len(node) != 1 and "field" not in node:
            self.fail(
                path,
                "must be an object with one of all, any, not, field, subscribed, "
                "blacklisted, category, activity",
            )
            return
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS + 1:
            self.fail(path, f"a rule holds at most {MAX_CONDITIONS} conditions")
        if "field" in node:
            self.condition(node, path)
            return
        ((key, value),) = node.items()
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self.fail(f"{path}.{key}", "must be a non-empty list of rules")
                return
            for index, part in enumerate(value):
                self.rule(part, f"{path}.{key}.{index}", depth + 1)
        elif key == "not":
            self.rule(value, f"{path}.not", depth + 1)
        elif key in FLAGS:
            self.flag(key, value, f"{path}.{key}")
        elif key == "activity":
            self.activity(value, f"{path}.activity")
        else:
            self.fail(f"{path}.{key}", "unknown rule")

    def flag(self, key: str, value, path: str) -> None:
        choices = FLAGS[key]
        if not isinstance(value, str) or not value:
            self.fail(path, "must be a name")
        elif choices is not None and value not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}")

    def activity(self, spec, path: str) -> None:
        if not isinstance(spec, dict):
            self.fail(path, "must be an object")
            return
        for key in spec:
            if key not in ACTIVITY_KEYS:
                self.fail(f"{path}.{key}", "unknown field")
        for key, choices in (
            ("channel", vocab.ACTIVITY_CHANNELS),
            ("origin", vocab.ORIGINS),
            ("type", EVERY_TYPE),
        ):
            if key in spec and spec[key] not in choices:
                self.fail(f"{path}.{key}", "not a value the activity feed uses")
        if "name" in spec and (not isinstance(spec["name"], str) or not spec["name"]):
            self.fail(f"{path}.name", "must be an event name")
        self.count(spec, "within_days", path, 1)
        self.count(spec, "min_count", path, 0)

    def count(self, spec: dict, key: str, path: str, low: int) -> None:
        if key in spec and not _whole(
            spec[key], low, MAX_DAYS if key == "within_days" else 1_000_000
        ):
            self.fail(f"{path}.{key}", f"must be a whole number from {low}")

    def condition(self, node: dict, path: str) -> None:
        for key in node:
            if key not in ("field", "op", "value"):
                self.fail(f"{path}.{key}", "unknown field")
        name, op = node.get("field"), node.get("op")
        kind = field_kind(name)
        if kind is False:
            self.fail(
                f"{path}.field",
                "unknown field; a contact field, status, address.<part> or variables.<name>",
            )
        if op not in OPS:
            self.fail(f"{path}.op", f"must be one of {', '.join(OPS)}")
            return
        if kind is False:
            return
        where = f"{path}.value"
        value = node.get("value")
        if op in COMPARISONS[2:] and kind not in ORDERED:
            self.fail(f"{path}.op", f"{op} needs a number, date or time field")
        elif op in TEXT_OPS and kind not in (STRING, None):
            self.fail(f"{path}.op", f"{op} needs a text field")
        elif op in DAY_OPS and kind not in (DATE, MOMENT, None):
            self.fail(f"{path}.op", f"{op} needs a date or time field")
        elif op == BIRTHDAY_OP and name != "birthday" and kind is not None:
            self.fail(f"{path}.op", f"{op} needs birthday or a date variable")
        elif op in DAY_OPS or op == BIRTHDAY_OP:
            if not _whole(value, 0, MAX_DAYS if op != BIRTHDAY_OP else 366):
                self.fail(where, "must be a whole number of days")
        elif op == "exists":
            if "value" in node and not isinstance(value, bool):
                self.fail(where, "must be true or false (default true)")
        elif op in LISTS:
            self.values_list(kind, value, where)
        elif op in TEXT_OPS:
            if not isinstance(value, str) or not value:
                self.fail(where, "must be text")
        else:
            self.scalar(kind, value, where)

    def values_list(self, kind, value, where: str) -> None:
        if not isinstance(value, list) or not value or len(value) > MAX_LIST_VALUES:
            self.fail(where, f"must be a list of 1 to {MAX_LIST_VALUES:,} values")
            return
        before, self.values = self.values, self.values + len(value)
        if self.values > MAX_RULE_VALUES:
            if before <= MAX_RULE_VALUES:  # said once, where the rule goes over
                self.fail(
                    where,
                    f"a rule holds at most {MAX_RULE_VALUES:,} values in all its lists together",
                )
            return  # not worth checking one by one
        for index, item in enumerate(value):
            self.scalar(kind, item, f"{where}.{index}")

    def scalar(self, kind, value, path: str) -> None:
        if kind == NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind == DATE:
            ok = as_date(value) is not None
        elif kind == MOMENT:
            ok = as_moment(value) is not None
        elif kind == STRING:
            ok = isinstance(value, str) and len(value) <= 1000
        else:
            ok = isinstance(value, str | int | float | bool) and value is not None
        if not ok:
            self.fail(
                path,
                {
                    NUMBER: "must be a number",
                    DATE: "must be a date YYYY-MM-DD",
                    MOMENT: "must be an RFC 3339 time",
                }.get(kind, "must be a value"),
            )


def as_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def as_moment(value) -> datetime | None:
    try:
        return parse_rfc3339(value)
    except ValidationError:
        return None


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def field_kind(name):
    """The kind of a field (plexus.contract.segments), None for a variable, False when
    the name is unknown."""
    if not isinstance(name, str):
        return False
    if name.startswith(VARIABLE_PREFIX):
        return None if len(name) > len(VARIABLE_PREFIX) else False
    return FIELDS.get(name, False)


def check_rule(rule, path: str = "rule") -> dict[str, list[str]]:
    """Every problem of the rule by its path; empty when the rule is good."""
    checker = _Checker()
    checker.rule(rule, path)
    return checker.errors


def validate_rule(rule, path: str = "rule") -> None:
    errors = check_rule(rule, path)
    if errors:
        raise invalid(errors)
