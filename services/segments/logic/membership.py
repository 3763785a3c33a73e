"""Who is in a segment, kept up to date three ways that give one answer: a whole
segment at once (a new or edited rule, the periodic pass: set queries), or one contact
against the segments an event may have changed (the dependency index). Every entry and
exit is counted on the segment and announced as segment_membership_changed."""

from __future__ import annotations

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from plexus.contract import events
from plexus.outbox import record_event
from services.segments.logic.compiler import Clock, compile_rule
from services.segments.models import Dependency, Membership, Outbox, Profile, SegmentDef

ADDED, DROPPED = "added", "dropped"
# Every segment reads something a new (or re-fetched) contact has.
EVERYTHING = "*"


def matching(rule: dict, clock: Clock):
    """SELECT contact_id FROM profiles WHERE <rule>."""
    return select(Profile.contact_id).where(compile_rule(rule, clock))


def holds(session: Session, rule: dict, contact_id: str, clock: Clock) -> bool:
    return session.scalar(matching(rule, clock).where(Profile.contact_id == contact_id)) \
        is not None


def _announce(session: Session, segment: SegmentDef, contact_ids, change: str) -> None:
    for contact_id in contact_ids:
        record_event(session, Outbox, events.SEGMENT_MEMBERSHIP_CHANGED, {
            "segment_id": segment.id, "segment_name": segment.name,
            "contact_id": contact_id, "change": change, "version": segment.version,
            "actor": "system"})


def _count(session: Session, segment_id: str, delta: int) -> None:
    if delta:
        session.execute(update(SegmentDef).where(SegmentDef.id == segment_id)
                        .values(member_count=SegmentDef.member_count + delta))


def reconcile(session: Session, segment: SegmentDef, clock: Clock) -> tuple[int, int]:
    """Bring the whole segment to what its rule says now, with two set queries (who
    should enter, who should leave); (added, dropped)."""
    _lock(session, segment.id)
    member = select(Membership.contact_id).where(
        Membership.segment_id == segment.id, Membership.contact_id == Profile.contact_id)
    entering = session.scalars(matching(segment.rule, clock).where(~exists(member))).all()
    still = matching(segment.rule, clock).where(Profile.contact_id == Membership.contact_id)
    leaving = session.scalars(select(Membership.contact_id).where(
        Membership.segment_id == segment.id, ~exists(still))).all()
    if entering:
        session.execute(insert(Membership), [
            {"segment_id": segment.id, "contact_id": contact_id, "version": segment.version,
             "since": clock.now} for contact_id in entering])
    if leaving:
        session.execute(delete(Membership).where(
            Membership.segment_id == segment.id, Membership.contact_id.in_(leaving)))
    _count(session, segment.id, len(entering) - len(leaving))
    _announce(session, segment, entering, ADDED)
    _announce(session, segment, leaving, DROPPED)
    return len(entering), len(leaving)


def dependent_segments(session: Session, kinds: set[str]) -> list[SegmentDef]:
    if EVERYTHING in kinds:
        return list(session.scalars(select(SegmentDef).order_by(SegmentDef.id)))
    ids = select(Dependency.segment_id).where(Dependency.kind.in_(sorted(kinds)))
    return list(session.scalars(select(SegmentDef).where(SegmentDef.id.in_(ids))
                                .order_by(SegmentDef.id)))


def recheck_contact(session: Session, contact_id: str, kinds: set[str], clock: Clock) -> int:
    """Re-check one contact against the segments reading any of `kinds`; changes made."""
    changes = 0
    for segment in dependent_segments(session, kinds):
        changes += _settle(session, segment, contact_id, holds(
            session, segment.rule, contact_id, clock), clock)
    return changes


def _lock(session: Session, segment_id: str) -> None:
    """Changes to one segment's membership, one transaction at a time (PostgreSQL; SQLite
    writes one at a time anyway): always the segment row first, then its members, so a
    set query and an event's re-check neither deadlock nor undo each other."""
    session.execute(select(SegmentDef.id).where(SegmentDef.id == segment_id)
                    .with_for_update())


def _is_member(session: Session, segment_id: str, contact_id: str) -> bool:
    return session.scalar(select(Membership.contact_id).where(
        Membership.segment_id == segment_id, Membership.contact_id == contact_id)) \
        is not None


def _settle(session: Session, segment: SegmentDef, contact_id: str, wanted: bool,
            clock: Clock) -> int:
    if wanted == _is_member(session, segment.id, contact_id):
        return 0  # the common case, and no lock taken
    _lock(session, segment.id)
    # Read again under the lock: a set query may have settled this contact meanwhile.
    if wanted == _is_member(session, segment.id, contact_id):
        return 0
    if wanted:
        session.add(Membership(segment_id=segment.id, contact_id=contact_id,
                               version=segment.version, since=clock.now))
        session.flush()
    else:
        session.execute(delete(Membership).where(Membership.segment_id == segment.id,
                                                 Membership.contact_id == contact_id))
    _count(session, segment.id, 1 if wanted else -1)
    _announce(session, segment, [contact_id], ADDED if wanted else DROPPED)
    return 1


def forget_contact(session: Session, contact_id: str) -> None:
    """Erasure: out of every segment, with the counts kept right, and no event (nothing
    may be said of an erased contact)."""
    counts = session.execute(select(Membership.segment_id, func.count()).where(
        Membership.contact_id == contact_id).group_by(Membership.segment_id)).all()
    session.execute(delete(Membership).where(Membership.contact_id == contact_id))
    for segment_id, n in counts:
        _count(session, segment_id, -n)
