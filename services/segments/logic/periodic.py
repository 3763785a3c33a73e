"""The periodic pass: rules that change with the clock alone (within_last_days,
more_than_days_ago, birthday_in_days, activity within_days) are re-evaluated as set
queries, a segment at a time; events cover every other change."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.query_timeout import QueryTimedOut, query_timeout
from plexus.seen_events import forget_old
from services.segments.logic.compiler import Clock
from services.segments.logic.membership import reconcile
from services.segments.models import SeenEvent, SegmentDef

log = logging.getLogger(__name__)

# Redeliveries come within minutes; a week of event ids is plenty.


def time_based_segments(session: Session) -> list[str]:
    return list(
        session.scalars(select(SegmentDef.id).where(SegmentDef.time_based).order_by(SegmentDef.id))
    )


def pass_segment(
    session: Session, segment_id: str, clock: Clock, timeout: float | None = None
) -> tuple[int, int]:
    """One segment brought up to date; QueryTimedOut (nothing changed) when its queries
    run longer than `timeout` seconds."""
    segment = session.get(SegmentDef, segment_id)
    if segment is None:  # deleted since the list was read
        return 0, 0
    with query_timeout(session, timeout):
        return reconcile(session, segment, clock)


def forget_old_events(session: Session, clock: Clock) -> None:
    forget_old(session, SeenEvent, clock.now)


def periodic_pass(transaction, clock: Clock, timeout: float) -> None:
    """Every time-based segment re-evaluated, one transaction a segment (a long pass
    never holds every segment locked); one that runs past `timeout` is left as it was."""
    with transaction() as session:
        segment_ids = time_based_segments(session)
    for segment_id in segment_ids:
        try:
            with transaction() as session:
                added, dropped = pass_segment(session, segment_id, clock, timeout)
        except QueryTimedOut:
            log.warning(
                "periodic pass: segment %s took longer than %g s; left as it was "
                "(raise SEGMENTS.pass_timeout_seconds, or narrow its rule)",
                segment_id,
                timeout,
            )
            continue
        if added or dropped:
            log.info("periodic pass: segment %s +%d -%d", segment_id, added, dropped)
    with transaction() as session:
        forget_old_events(session, clock)
