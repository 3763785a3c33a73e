"""What a hostile segment rule costs the segments process before any SQL runs: the rule
of issue 16 (99 conditions, each a 1,000-value `in` on a variable: 99,000 values) and the
largest rule the limits allow (two 1,000-value lists and 97 more conditions), each
validated as the service validates a body, then compiled to its SQLAlchemy condition and
to SQL text for PostgreSQL and SQLite (values inlined, as the server receives them once
the IN lists are expanded).

    .venv/bin/python -m bench.hostile_rules [--record]"""

from __future__ import annotations

import time

from sqlalchemy.dialects import postgresql, sqlite

from bench.harness import arguments, machine, report
from plexus.errors import Invalid
from plexus.timeutil import utcnow
from services.segments.logic import definitions
from services.segments.logic.compiler import Clock
from services.segments.logic.membership import matching

SECTION = "Hostile segment rules"


def hostile_rule() -> dict:
    return {
        "any": [
            {
                "field": f"variables.v{i}",
                "op": "in",
                "value": [f"value-{i}-{j}" for j in range(1000)],
            }
            for i in range(99)
        ]
    }


def largest_allowed_rule() -> dict:
    lists = [
        {"field": f"variables.v{i}", "op": "in", "value": [f"value-{i}-{j}" for j in range(1000)]}
        for i in range(2)
    ]
    others = [{"field": f"variables.w{i}", "op": "eq", "value": f"x{i}"} for i in range(97)]
    return {"any": lists + others}


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def measure(name: str, rule: dict) -> dict:
    def validate():
        try:
            definitions.read_rule({"rule": rule})
            return "accepted"
        except Invalid as error:
            return "422 " + ", ".join(error.errors)

    verdict, validation = timed(validate)
    condition, compile_seconds = timed(lambda: matching(rule, Clock(utcnow())))
    sizes = {}
    for dialect_name, dialect in (
        ("postgresql", postgresql.dialect()),
        ("sqlite", sqlite.dialect()),
    ):
        sql, seconds = timed(
            lambda d=dialect: str(
                condition.compile(dialect=d, compile_kwargs={"literal_binds": True})
            )
        )
        sizes[dialect_name] = (len(sql), seconds)
    return {
        "rule": name,
        "verdict": verdict,
        "validate_s": validation,
        "compile_s": compile_seconds,
        "sql": sizes,
    }


def main() -> None:
    args = arguments(__doc__).parse_args()
    results = [
        measure("99 x 1,000-value variables in", hostile_rule()),
        measure("largest allowed (2 x 1,000 values + 97 conditions)", largest_allowed_rule()),
    ]
    lines = [
        f"Segment rules before any SQL runs ({machine()})",
        "",
        "| rule | validation | validate | compile | SQL text, PostgreSQL | to text | "
        "SQL text, SQLite |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pg, lite = r["sql"]["postgresql"], r["sql"]["sqlite"]
        lines.append(
            f"| {r['rule']} | {r['verdict']} | {r['validate_s'] * 1000:.1f} ms | "
            f"{r['compile_s'] * 1000:.0f} ms | {pg[0] / 1e6:.2f} MB | "
            f"{pg[1] * 1000:.0f} ms | {lite[0] / 1e6:.2f} MB |"
        )
    report(
        SECTION,
        "\n".join(lines),
        to_results=args.record,
        as_json={"results": results} if args.json else None,
    )


if __name__ == "__main__":
    main()
