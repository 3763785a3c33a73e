"""Rules as SQL: a (validated) rule becomes one SQLAlchemy Core boolean expression over
the projection's `profiles` table, the same text on SQLite and PostgreSQL. A full
evaluation selects the profiles it holds for; an incremental one adds the contact's id.

A NULL field fails eq and passes ne, and `not` means what a person means by it: NULL
counts as false before it is negated (under `not`, and in ne / not_in)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, false, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from plexus.contract.segments import (
    BIRTHDAY_OP,
    DATE,
    MOMENT,
    TIME_OPS,
    VARIABLE_PREFIX,
)
from services.segments.logic.validation import as_date, as_moment, field_kind
from services.segments.models import ActivityCount, Flag, Profile, Variable

FLAG_KINDS = {"subscribed": "subscribed", "blacklisted": "blacklisted", "category": "category"}
# What changes make a condition worth re-checking: the contact field it reads, as
# contact_updated names it, or the kind of event.
FLAG_DEPENDENCIES = {
    "subscribed": "subscriptions",
    "blacklisted": "blacklists",
    "category": "categories",
}
ACTIVITY = "activity"


@dataclass(frozen=True)
class Clock:
    """The moment rules are evaluated at; `today` is its UTC date."""

    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


def column(name: str):
    if name == "id":
        return Profile.contact_id
    return getattr(Profile, name.removeprefix("address."))


# Field conditions that are never NULL (ne and not_in are negations made two-valued).
NEVER_NULL = ("exists", "ne", "not_in")


def _both(condition) -> ColumnElement:
    return func.coalesce(condition, false())


def _days_back(kind, clock: Clock, days: int):
    if kind == MOMENT:
        return clock.now - timedelta(days=days)
    return clock.today - timedelta(days=days)


def month_days(clock: Clock, days: int) -> list[str]:
    """The "MM-DD" of today and the `days` after it; 29 February stands for 28 February
    in years without it (and for 1 March once it has passed)."""
    found = []
    for offset in range(days + 1):
        day = clock.today + timedelta(days=offset)
        found.append(day.strftime("%m-%d"))
        leap = (day.year % 4 == 0 and day.year % 100 != 0) or day.year % 400 == 0
        if not leap and found[-1] == "02-28":
            found.append("02-29")
    return sorted(set(found))


def _typed(kind, value):
    if kind == DATE:
        return as_date(value)
    if kind == MOMENT:
        return as_moment(value)
    return value


# ne is eq negated after NULLs are made false (compile_rule's two-valued conditions).
COMPARE = {
    "eq": operator.eq,
    "ne": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _compare(target, op: str, value) -> ColumnElement:
    return COMPARE[op](target, value)


def _field_condition(node: dict, clock: Clock) -> ColumnElement:
    name, op, value = node["field"], node["op"], node.get("value")
    kind = field_kind(name)
    col = column(name)
    if op == "exists":
        return col.is_not(None) if value is not False else col.is_(None)
    if op in ("within_last_days", "more_than_days_ago"):
        edge = _days_back(kind, clock, value)
        if op == "more_than_days_ago":
            return col < edge
        top = clock.now if kind == MOMENT else clock.today
        return and_(col >= edge, col <= top)
    if op == BIRTHDAY_OP:
        return Profile.birthday_md.in_(month_days(clock, value))
    if op in ("contains", "starts_with"):
        lowered = func.lower(col)
        text = value.lower()
        return (
            lowered.contains(text, autoescape=True)
            if op == "contains"
            else lowered.startswith(text, autoescape=True)
        )
    if op in ("in", "not_in"):
        held = col.in_([_typed(kind, item) for item in value])
        return held if op == "in" else not_(_both(held))
    held = _compare(col, op, _typed(kind, value))
    return not_(_both(held)) if op == "ne" else held


def _variable_target(value):
    """The stored form a value is compared with: numbers as numbers, booleans and text
    as text."""
    if isinstance(value, bool):
        return Variable.text_value, "true" if value else "false"
    if isinstance(value, int | float):
        return Variable.number_value, value
    return Variable.text_value, value


def _variable_in(values: list) -> ColumnElement:
    """Any of `values`, as at most two IN lists (text and number) inside one EXISTS: an
    EXISTS a value made a 1,000-value list 1,000 subqueries (seconds to compile,
    megabytes of SQL)."""
    by_column: dict = {}
    for target, typed in map(_variable_target, values):
        by_column.setdefault(target, []).append(typed)
    return or_(*[target.in_(typed) for target, typed in by_column.items()])


def _variable_condition(node: dict, clock: Clock) -> ColumnElement:
    name, op, value = node["field"].removeprefix(VARIABLE_PREFIX), node["op"], node.get("value")

    def having(condition) -> ColumnElement:
        return exists(
            select(Variable.contact_id).where(
                Variable.contact_id == Profile.contact_id, Variable.name == name, condition
            )
        )

    if op == "exists":
        held = having(Variable.text_value.is_not(None))
        return held if value is not False else not_(held)
    text = Variable.text_value
    if op == "within_last_days":
        return having(
            and_(
                text >= (clock.today - timedelta(days=value)).isoformat(),
                text < (clock.today + timedelta(days=1)).isoformat(),
            )
        )
    if op == "more_than_days_ago":
        return having(text < (clock.today - timedelta(days=value)).isoformat())
    if op == BIRTHDAY_OP:
        return having(func.substr(text, 6, 5).in_(month_days(clock, value)))
    if op in ("contains", "starts_with"):
        lowered = func.lower(text)
        return having(
            lowered.contains(value.lower(), autoescape=True)
            if op == "contains"
            else lowered.startswith(value.lower(), autoescape=True)
        )
    if op in ("in", "not_in"):
        held = having(_variable_in(value))
        return held if op == "in" else not_(held)
    target, typed = _variable_target(value)
    held = having(_compare(target, op, typed))
    return not_(held) if op == "ne" else held


def _flag_condition(kind: str, key: str) -> ColumnElement:
    return exists(
        select(Flag.contact_id).where(
            Flag.contact_id == Profile.contact_id, Flag.kind == kind, Flag.key == key
        )
    )


def _activity_condition(spec: dict, clock: Clock) -> ColumnElement:
    wanted = [ActivityCount.contact_id == Profile.contact_id]
    for key in ("channel", "type", "origin"):
        if key in spec:
            wanted.append(getattr(ActivityCount, key) == spec[key])
    if "name" in spec:
        wanted.append(ActivityCount.name == spec["name"])
    if "within_days" in spec:
        # Today and the within_days days before it.
        wanted.append(ActivityCount.day >= clock.today - timedelta(days=spec["within_days"]))
    minimum = spec.get("min_count", 1)
    if minimum <= 0:
        return true()
    total = select(func.coalesce(func.sum(ActivityCount.count), 0)).where(*wanted)
    return total.scalar_subquery() >= minimum


def _compile(rule: dict, clock: Clock) -> tuple[ColumnElement, bool]:
    """The condition, and whether it may be NULL (a NULL field compared)."""
    if "field" in rule:
        if rule["field"].startswith(VARIABLE_PREFIX):
            return _variable_condition(rule, clock), False
        return _field_condition(rule, clock), rule["op"] not in NEVER_NULL
    ((key, value),) = rule.items()
    if key in ("all", "any"):
        compiled = [_compile(part, clock) for part in value]
        join = and_ if key == "all" else or_
        return join(*[expr for expr, _ in compiled]), any(null for _, null in compiled)
    if key == "not":
        inner, nullable = _compile(value, clock)
        # NOT NULL is NULL, which would drop the row: NULL must count as false first.
        # Only here: elsewhere NULL and false drop a row alike, and a bare EXISTS lets
        # PostgreSQL plan NOT EXISTS as an anti-join.
        return not_(_both(inner) if nullable else inner), False
    if key in FLAG_KINDS:
        return _flag_condition(FLAG_KINDS[key], value), False
    return _activity_condition(value, clock), False


def compile_rule(rule: dict, clock: Clock) -> ColumnElement:
    """The rule as a condition on a row of `profiles`; NULL where it counts as false."""
    return _compile(rule, clock)[0]


def parts(rule: dict) -> list[dict]:
    """The rule's sub-rules (of all / any / not), in order."""
    if "all" in rule or "any" in rule:
        return list(rule.get("all") or rule.get("any"))
    if "not" in rule:
        return [rule["not"]]
    return []


def dependencies(rule: dict) -> set[str]:
    """What a change must touch for this rule to be re-checked (the dependency index)."""
    if "field" in rule:
        name = rule["field"]
        if name.startswith(VARIABLE_PREFIX):
            return {"variables"}
        return {name.split(".", 1)[0]}
    for key, kind in FLAG_DEPENDENCIES.items():
        if key in rule:
            return {kind}
    if ACTIVITY in rule:
        return {ACTIVITY}
    return set().union(*(dependencies(part) for part in parts(rule)))


def uses_time(rule: dict) -> bool:
    """Whether the rule's answer can change with the clock alone."""
    if "field" in rule:
        return rule.get("op") in TIME_OPS
    if ACTIVITY in rule:
        return "within_days" in rule[ACTIVITY]
    return any(uses_time(part) for part in parts(rule))
