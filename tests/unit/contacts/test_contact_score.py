"""add_score, a workflow's score step: contact_score moved once per key, announced as a
contact_updated naming the caller's actor; bad input is 422 naming the field."""

import pytest
from sqlalchemy import select

from plexus.errors import Invalid, NotFound
from services.contacts.logic import scores
from services.contacts.models import Outbox


def updates(run, contact_id: str) -> list[dict]:
    rows = run(lambda session: list(session.scalars(select(Outbox))))
    return [
        row.payload
        for row in rows
        if row.payload.get("contact_id") == contact_id and row.payload["event"] == "contact_updated"
    ]


def test_a_score_is_added_once_per_key(run, create):
    contact = create(email="score@example.com")
    actor = "workflow:01wf"
    assert run(scores.add_score, contact["id"], 10, actor, "workflow:r1:3")["contact_score"] == 10
    assert run(scores.add_score, contact["id"], 10, actor, "workflow:r1:3")["contact_score"] == 10
    assert (
        run(scores.add_score, contact["id"], -2.5, actor, "workflow:r2:3")["contact_score"] == 7.5
    )
    announced = updates(run, contact["id"])
    assert [(p["actor"], p["changed"]) for p in announced] == [
        (actor, {"contact_score": 10.0}),
        (actor, {"contact_score": 7.5}),
    ]


def test_bad_input_is_named(run, create):
    contact = create(email="score-bad@example.com")
    with pytest.raises(Invalid) as bad:
        run(scores.add_score, contact["id"], "ten", "workflow:x", "k")
    assert "add" in bad.value.errors
    with pytest.raises(Invalid) as no_key:
        run(scores.add_score, contact["id"], 1, "workflow:x", "")
    assert "key" in no_key.value.errors
    with pytest.raises(NotFound):
        run(scores.add_score, "nobody", 1, "workflow:x", "k2")
