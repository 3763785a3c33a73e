"""Segment definitions: created, changed, listed and deleted. A new rule (or a changed
one, which raises the version) is checked, indexed by what it reads, and evaluated over
every contact at once before the answer goes back."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from plexus.audit import record_deletion
from plexus.contract.segments import MAX_SEGMENTS, PreviewInput, SegmentInput, SegmentPatch
from plexus.errors import Conflict, NotFound
from plexus.paging import envelope, page, page_of
from plexus.parsing import invalid, load_partly
from plexus.timeutil import rfc3339
from services.segments.logic.compiler import Clock, dependencies, uses_time
from services.segments.logic.limits import evaluation_limit
from services.segments.logic.membership import hold_definitions, reconcile
from services.segments.logic.validation import check_rule
from services.segments.models import Dependency, Membership, SegmentDef


def representation(segment: SegmentDef) -> dict:
    return {
        "id": segment.id,
        "name": segment.name,
        "rule": segment.rule,
        "version": segment.version,
        "member_count": segment.member_count,
        "created_at": rfc3339(segment.created_at),
        "updated_at": rfc3339(segment.updated_at),
        **segment.authorship(),
    }


def read_body(schema, data) -> dict:
    """The body with its rule checked; every problem at once (rule.all.2.op...)."""
    values, errors = load_partly(schema, data if isinstance(data, dict) else {})
    if not isinstance(data, dict):
        errors = {"_schema": ["must be a JSON object"]}
    if "rule" in values:
        errors.update(check_rule(values["rule"]))
    if errors:
        raise invalid(errors)
    return values


def read_rule(data) -> dict:
    return read_body(PreviewInput(), data)["rule"]


def _index(session: Session, segment: SegmentDef) -> None:
    session.execute(delete(Dependency).where(Dependency.segment_id == segment.id))
    session.add_all(
        Dependency(kind=kind, segment_id=segment.id) for kind in sorted(dependencies(segment.rule))
    )
    segment.time_based = uses_time(segment.rule)
    session.flush()


def get_segment(session: Session, segment_id: str) -> SegmentDef:
    segment = session.get(SegmentDef, segment_id)
    if segment is None:
        raise NotFound("no such segment")
    return segment


def read_segment(session: Session, segment_id: str) -> dict:
    return representation(get_segment(session, segment_id))


def _room_for_one_more(session: Session) -> None:
    """Every segment is re-checked as contacts change: their number is bounded."""
    if session.scalar(select(func.count()).select_from(SegmentDef)) >= MAX_SEGMENTS:
        raise Conflict(
            f"there are {MAX_SEGMENTS:,} segments already, as many as Plexus "
            "keeps up to date: delete one first",
            {"segments": [f"at most {MAX_SEGMENTS:,}"]},
        )


def create_segment(
    session: Session, data, actor: str, clock: Clock, timeout: float | None = None
) -> dict:
    """`timeout`: seconds the evaluation over every contact may take (422 beyond)."""
    values = read_body(SegmentInput(), data)
    hold_definitions(session, exclusive=True)
    _room_for_one_more(session)
    segment = SegmentDef(
        name=values["name"],
        rule=values["rule"],
        version=1,
        member_count=0,
        created_at=clock.now,
        updated_at=clock.now,
        created_by=actor,
        updated_by=actor,
    )
    session.add(segment)
    _index(session, segment)
    with evaluation_limit(session, timeout):
        reconcile(session, segment, clock)
    session.refresh(segment)
    return representation(segment)


def update_segment(
    session: Session,
    segment_id: str,
    data,
    actor: str,
    clock: Clock,
    timeout: float | None = None,
) -> dict:
    values = read_body(SegmentPatch(), data)
    segment = get_segment(session, segment_id)
    if "name" in values:
        segment.name = values["name"]
    if "rule" in values and values["rule"] != segment.rule:
        hold_definitions(session, exclusive=True)
        segment.rule = values["rule"]
        segment.version += 1
        _index(session, segment)
        with evaluation_limit(session, timeout):
            reconcile(session, segment, clock)
        session.refresh(segment)
    segment.updated_at, segment.updated_by = clock.now, actor
    return representation(segment)


def delete_segment(session: Session, segment_id: str, actor: str) -> None:
    """The definition and its membership; members are not told one by one (the segment
    is gone, not they)."""
    segment = get_segment(session, segment_id)
    record_deletion("segment", segment.id, actor)
    for model in (Dependency, Membership):
        session.execute(delete(model).where(model.segment_id == segment.id))
    session.delete(segment)


def list_segments(session: Session, limit: int, cursor: str | None) -> dict:
    return page(
        session, select(SegmentDef), SegmentDef.id, limit, cursor, representation, newest_first=True
    )


def members(session: Session, segment_id: str, limit: int, cursor: str | None) -> dict:
    get_segment(session, segment_id)
    query = (
        select(Membership.contact_id)
        .where(Membership.segment_id == segment_id)
        .order_by(Membership.contact_id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(Membership.contact_id > cursor)
    rows = list(session.scalars(query))
    return page_of(rows, limit, lambda contact_id: contact_id, lambda contact_id: contact_id)


def contact_segments(session: Session, contact_id: str) -> dict:
    rows = session.scalars(
        select(SegmentDef)
        .join(Membership, Membership.segment_id == SegmentDef.id)
        .where(Membership.contact_id == contact_id)
        .order_by(SegmentDef.name)
    )
    return envelope([representation(row) for row in rows], None)
