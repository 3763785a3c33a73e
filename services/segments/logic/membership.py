"""Who is in a segment, kept up to date two ways that give one answer: a whole segment
at once (a new or edited rule, the periodic pass: set queries), or the contacts a batch
of events changed, against the segments reading what changed (the dependency index),
one query per segment. Every entry and exit is counted on the segment and announced as
segment_membership_changed."""

from __future__ import annotations

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.orm import Session

from plexus.bulk import insert_rows
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


def _announce(session: Session, segment: SegmentDef, contact_ids: list[str], change: str) -> None:
    if contact_ids:
        record_event(
            session,
            Outbox,
            events.SEGMENT_MEMBERSHIP_CHANGED,
            {
                "segment_id": segment.id,
                "segment_name": segment.name,
                "contact_ids": list(contact_ids),
                "change": change,
                "version": segment.version,
                "actor": "system",
            },
        )


def _count(session: Session, segment_id: str, delta: int) -> None:
    if delta:
        session.execute(
            update(SegmentDef)
            .where(SegmentDef.id == segment_id)
            .values(member_count=SegmentDef.member_count + delta)
        )


def reconcile(session: Session, segment: SegmentDef, clock: Clock) -> tuple[int, int]:
    """Bring the whole segment to what its rule says now, with two set queries (who
    should enter, who should leave); (added, dropped)."""
    _lock(session, segment.id)
    member = select(Membership.contact_id).where(
        Membership.segment_id == segment.id, Membership.contact_id == Profile.contact_id
    )
    entering = list(session.scalars(matching(segment.rule, clock).where(~exists(member))))
    still = matching(segment.rule, clock).where(Profile.contact_id == Membership.contact_id)
    leaving = list(
        session.scalars(
            select(Membership.contact_id).where(Membership.segment_id == segment.id, ~exists(still))
        )
    )
    _move(session, segment, entering, leaving, clock)
    return len(entering), len(leaving)


def dependent_segments(session: Session, kinds: set[str]) -> list[SegmentDef]:
    if EVERYTHING in kinds:
        return list(session.scalars(select(SegmentDef).order_by(SegmentDef.id)))
    ids = select(Dependency.segment_id).where(Dependency.kind.in_(sorted(kinds)))
    return list(
        session.scalars(select(SegmentDef).where(SegmentDef.id.in_(ids)).order_by(SegmentDef.id))
    )


def _reads(session: Session, segment_ids: list[str]) -> dict[str, set[str]]:
    """What each segment's rule reads (the dependency index)."""
    found: dict[str, set[str]] = {segment_id: set() for segment_id in segment_ids}
    for kind, segment_id in session.execute(
        select(Dependency.kind, Dependency.segment_id).where(Dependency.segment_id.in_(segment_ids))
    ):
        found[segment_id].add(kind)
    return found


def recheck_contacts(session: Session, changed: dict[str, set[str]], clock: Clock) -> int:
    """Re-check contacts, each against the segments reading any of the kinds of data
    it changed ({contact_id: kinds}); membership changes made."""
    if not changed:
        return 0
    every_kind = set().union(*changed.values())
    segments = dependent_segments(session, every_kind)
    reads = _reads(session, [segment.id for segment in segments])
    changes = 0
    for segment in segments:
        candidates = sorted(
            contact_id
            for contact_id, kinds in changed.items()
            if EVERYTHING in kinds or kinds & reads[segment.id]
        )
        if candidates:
            changes += _settle_many(session, segment, candidates, clock)
    return changes


# PostgreSQL advisory lock key: "the set of segment definitions".
DEFINITIONS_LOCK = 7_300_001


def hold_definitions(session: Session, exclusive: bool = False) -> None:
    """Definitions and the projection, one against the other (PostgreSQL; SQLite's single
    writer serializes them anyway). A transaction applying events holds this shared from
    before its first read of the segments to its commit; a new or changed rule holds it
    alone. Without it a segment created while a contact's event is being applied misses
    that contact for good: the event's transaction read the segments before the new one
    committed, and the new one's evaluation read the profiles before the event's commit."""
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:key)"), {"key": DEFINITIONS_LOCK})


def _lock(session: Session, segment_id: str) -> None:
    """Changes to one segment's membership, one transaction at a time (PostgreSQL; SQLite
    writes one at a time anyway): always the segment row first, then its members, so a
    set query and an event's re-check neither deadlock nor undo each other."""
    session.execute(select(SegmentDef.id).where(SegmentDef.id == segment_id).with_for_update())


def _members_among(session: Session, segment_id: str, contact_ids: list[str]) -> set[str]:
    return set(
        session.scalars(
            select(Membership.contact_id).where(
                Membership.segment_id == segment_id, Membership.contact_id.in_(contact_ids)
            )
        )
    )


def _settle_many(session: Session, segment: SegmentDef, candidates: list[str], clock: Clock) -> int:
    """Bring `candidates` to what the segment's rule says of them: one query for who
    matches, one for who is a member, and the differences written together."""
    wanted = set(
        session.scalars(matching(segment.rule, clock).where(Profile.contact_id.in_(candidates)))
    )
    members = _members_among(session, segment.id, candidates)
    if not any((c in wanted) != (c in members) for c in candidates):
        return 0  # the common case, and no lock taken
    _lock(session, segment.id)
    # Read again under the lock: a set query may have settled some meanwhile.
    members = _members_among(session, segment.id, candidates)
    entering = [c for c in candidates if c in wanted and c not in members]
    leaving = [c for c in candidates if c not in wanted and c in members]
    _move(session, segment, entering, leaving, clock)
    return len(entering) + len(leaving)


def _move(
    session: Session, segment: SegmentDef, entering: list[str], leaving: list[str], clock: Clock
) -> None:
    """Write who enters and who leaves, move the count by the net change, announce each."""
    if entering:
        insert_rows(
            session,
            Membership,
            [
                {
                    "segment_id": segment.id,
                    "contact_id": contact_id,
                    "version": segment.version,
                    "since": clock.now,
                }
                for contact_id in entering
            ],
        )
    if leaving:
        session.execute(
            delete(Membership).where(
                Membership.segment_id == segment.id, Membership.contact_id.in_(leaving)
            )
        )
    _count(session, segment.id, len(entering) - len(leaving))
    _announce(session, segment, entering, ADDED)
    _announce(session, segment, leaving, DROPPED)


def forget_contact(session: Session, contact_id: str) -> None:
    """Erasure: out of every segment, with the counts kept right, and no event (nothing
    may be said of an erased contact)."""
    counts = session.execute(
        select(Membership.segment_id, func.count())
        .where(Membership.contact_id == contact_id)
        .group_by(Membership.segment_id)
    ).all()
    session.execute(delete(Membership).where(Membership.contact_id == contact_id))
    for segment_id, n in counts:
        _count(session, segment_id, -n)
