"""Rules made to be costly are refused or stopped, on SQLite and PostgreSQL: a rule
with too many values is 422 at once naming where it goes over, a variable's `in`
compiles to one EXISTS however long its list, the number of segments is bounded, and a
preview or a new rule whose evaluation runs past its time limit is 422 naming `rule`,
with the database free again."""

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from plexus.bulk import insert_rows
from plexus.errors import Conflict, Invalid
from plexus.query_timeout import QueryTimedOut
from services.segments.logic import definitions, inspection, periodic
from services.segments.logic.compiler import compile_rule
from services.segments.models import Profile, SegmentDef, Variable
from tests.unit.segments.conftest import CLOCK, NOW, created, one_contact_event

# 99 conditions, each a 1,000-value list on a variable: 99,000 values.
HOSTILE = {
    "any": [
        {"field": f"variables.v{i}", "op": "in", "value": [f"value-{i}-{j}" for j in range(1000)]}
        for i in range(99)
    ]
}


def test_a_rule_of_99_thousand_values_is_refused_at_once_naming_where_it_goes_over(run):
    started = time.perf_counter()
    with pytest.raises(Invalid) as refused:
        run(inspection.preview, definitions.read_rule({"rule": HOSTILE}), CLOCK)
    assert time.perf_counter() - started < 1.0
    assert refused.value.errors == {
        "rule.any.2.value": ["a rule holds at most 2,000 values in all its lists together"]
    }
    with pytest.raises(Invalid) as refused:
        run(definitions.create_segment, {"name": "costly", "rule": HOSTILE}, "tester", CLOCK)
    assert list(refused.value.errors) == ["rule.any.2.value"]
    assert run(lambda s: s.scalar(select(func.count()).select_from(SegmentDef))) == 0


def test_a_variables_in_is_one_exists_however_long_its_list():
    rule = {
        "field": "variables.plan",
        "op": "in",
        "value": [f"plan-{n}" for n in range(1000)] + [7, True],
    }
    sql = str(
        compile_rule(rule, CLOCK).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    assert sql.count("EXISTS") == 1
    assert len(sql) < 25_000  # one list: ~14 bytes a value (was ~200 a value)


def test_a_variables_in_of_mixed_values_holds_for_any_of_them(run, contacts):
    made = {
        name: contacts.make(variables=variables)
        for name, variables in {
            "text": {"plan": "pro"},
            "number": {"plan": 7},
            "flag": {"plan": True},
            "other": {"plan": "free"},
            "none": {},
        }.items()
    }
    for contact in made.values():
        run(one_contact_event, created(contact), contacts.fetch, CLOCK)
    names = {contact["id"]: name for name, contact in made.items()}

    def who(op):
        rule = {"field": "variables.plan", "op": op, "value": ["pro", 7, True, "team"]}
        return sorted(names[i] for i in run(inspection.preview, rule, CLOCK)["sample"])

    assert who("in") == ["flag", "number", "text"]
    assert who("not_in") == ["none", "other"]


def test_the_number_of_segments_is_bounded(run, monkeypatch):
    monkeypatch.setattr(definitions, "MAX_SEGMENTS", 2)
    rule = {"field": "language", "op": "eq", "value": "uk"}
    first = run(definitions.create_segment, {"name": "one", "rule": rule}, "tester", CLOCK)
    run(definitions.create_segment, {"name": "two", "rule": rule}, "tester", CLOCK)
    with pytest.raises(Conflict) as refused:
        run(definitions.create_segment, {"name": "three", "rule": rule}, "tester", CLOCK)
    assert "delete one first" in refused.value.detail
    run(definitions.delete_segment, first["id"], "tester")
    assert run(definitions.create_segment, {"name": "three", "rule": rule}, "tester", CLOCK)["id"]


@pytest.fixture
def crowd(run):
    """20,000 profiles, each with a variable: enough for a costly rule to take a while."""

    def load(session):
        insert_rows(
            session,
            Profile,
            [
                {
                    "contact_id": f"c{n:06d}",
                    "email": f"person{n}@example.com",
                    "language": "uk",
                    "created_at": NOW,
                }
                for n in range(20_000)
            ],
        )
        insert_rows(
            session,
            Variable,
            [
                {"contact_id": f"c{n:06d}", "name": "plan", "text_value": f"plan{n % 97}"}
                for n in range(20_000)
            ],
        )

    run(load)


# Each condition scans every profile's email and its variable: 20,000 x 99 LIKEs.
COSTLY = {
    "any": [
        {
            "all": [
                {"field": "email", "op": "contains", "value": f"zz{n}"},
                {"field": "variables.plan", "op": "contains", "value": f"x{n}"},
            ]
        }
        for n in range(33)
    ]
}


def test_a_preview_past_its_time_limit_is_422_naming_the_rule_and_frees_the_database(run, crowd):
    started = time.perf_counter()
    with pytest.raises(Invalid) as stopped:
        run(inspection.preview, COSTLY, CLOCK, 0.05)
    assert time.perf_counter() - started < 2.0
    assert list(stopped.value.errors) == ["rule"]
    assert "too costly" in stopped.value.errors["rule"][0]
    # The same session factory answers at once afterwards, and with no limit left behind.
    assert (
        run(
            inspection.preview,
            {"field": "email", "op": "eq", "value": "person7@example.com"},
            CLOCK,
        )["count"]
        == 1
    )
    assert run(inspection.preview, COSTLY, CLOCK)["count"] == 0


def test_a_new_rule_past_its_time_limit_is_refused_and_nothing_is_kept(run, crowd):
    with pytest.raises(Invalid) as stopped:
        run(definitions.create_segment, {"name": "slow", "rule": COSTLY}, "tester", CLOCK, 0.05)
    assert list(stopped.value.errors) == ["rule"]
    assert run(lambda s: s.scalar(select(func.count()).select_from(SegmentDef))) == 0


def test_a_periodic_pass_past_its_time_limit_changes_nothing(run, crowd):
    rule = {
        "any": [*COSTLY["any"][:32], {"field": "created_at", "op": "within_last_days", "value": 3}]
    }
    segment = run(definitions.create_segment, {"name": "slow", "rule": rule}, "tester", CLOCK)
    with pytest.raises(QueryTimedOut):
        run(periodic.pass_segment, segment["id"], CLOCK, 0.05)
    assert run(definitions.read_segment, segment["id"])["member_count"] == 20_000
