"""Looking at a rule without changing anything: `preview` (how many contacts it holds
for now, and a few of them) and `explain` (which parts hold for one contact, as a tree
shaped like the rule, read in one query)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plexus.errors import NotFound
from services.segments.logic.compiler import Clock, compile_rule, parts
from services.segments.logic.definitions import get_segment
from services.segments.logic.limits import evaluation_limit
from services.segments.logic.membership import matching
from services.segments.models import Membership, Profile

SAMPLE = 20


def preview(session: Session, rule: dict, clock: Clock, timeout: float | None = None) -> dict:
    found = matching(rule, clock).subquery()
    with evaluation_limit(session, timeout):
        count = session.scalar(select(func.count()).select_from(found))
        sample = session.scalars(
            select(found.c.contact_id).order_by(found.c.contact_id).limit(SAMPLE)
        ).all()
    return {"count": count, "sample": list(sample)}


def _nodes(rule: dict) -> list[dict]:
    """The rule's nodes, depth first (the order of the columns read)."""
    found = [rule]
    for part in parts(rule):
        found.extend(_nodes(part))
    return found


def _tree(rule: dict, answers) -> dict:
    node = {key: value for key, value in rule.items() if key not in ("all", "any", "not")}
    node["holds"] = bool(next(answers))
    for key in ("all", "any", "not"):
        if key in rule:
            node["op"] = key
            node["parts"] = [_tree(part, answers) for part in parts(rule)]
    return node


def explain(session: Session, segment_id: str, contact_id: str, clock: Clock) -> dict:
    segment = get_segment(session, segment_id)
    columns = [compile_rule(node, clock) for node in _nodes(segment.rule)]
    row = session.execute(select(*columns).where(Profile.contact_id == contact_id)).first()
    if row is None:
        raise NotFound("no such contact", {"contact_id": ["no such contact"]})
    member = session.get(Membership, (segment_id, contact_id)) is not None
    return {
        "segment_id": segment_id,
        "contact_id": contact_id,
        "member": member,
        "explain": _tree(segment.rule, iter(row)),
    }


def matches(session: Session, rule: dict, contact_id: str, clock: Clock) -> bool:
    """Whether a (checked) rule holds for one contact now: what a workflow's `if` and
    `exit_if` ask. False for a contact not projected (unknown, or erased)."""
    holds = session.scalar(
        select(compile_rule(rule, clock)).where(Profile.contact_id == str(contact_id or ""))
    )
    return bool(holds)
