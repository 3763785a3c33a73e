"""Rebuilding the projection from scratch (`plexus segments rebuild`): every contact
from contacts, every day's activity counts from activity, then every segment evaluated
again as a set query, which announces only the memberships that changed.

Run it with the segments service stopped: events it handles meanwhile would be counted
twice (its activity counts) or overwritten. Each page is a transaction of its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from plexus.db import transaction
from services.segments.logic.compiler import Clock
from services.segments.logic.membership import reconcile
from services.segments.logic.projection import count_activity, store_contact
from services.segments.models import ActivityCount, Flag, Profile, SegmentDef, Variable

# A page: a list of contacts (as get_contact gives them) or of daily counts (as
# activity's daily_counts gives them).
Pages = Iterable[list[dict]]


@dataclass
class Summary:
    contacts: int = 0
    counts: int = 0
    segments: dict[str, tuple[int, int]] = field(default_factory=dict)  # name: (+, -)


def _clear(session: Session) -> None:
    for model in (Profile, Flag, Variable, ActivityCount):
        session.execute(delete(model))


def _store_contacts(session: Session, contacts: list[dict]) -> None:
    for contact in contacts:
        store_contact(session, contact)


def _store_counts(session: Session, rows: list[dict]) -> None:
    counted: Counter = Counter()
    for row in rows:
        counted[
            (
                row["contact_id"],
                date.fromisoformat(row["day"]),
                row["channel"],
                row["type"],
                row.get("name") or "",
                row.get("origin") or "",
            )
        ] += row["count"]
    count_activity(session, counted)


def rebuild(
    sessions: sessionmaker,
    contact_pages: Pages,
    count_pages: Pages,
    clock: Clock,
    say: Callable[[str], None] = print,
) -> Summary:
    summary = Summary()
    with transaction(sessions) as session:
        _clear(session)
    for page in contact_pages:
        with transaction(sessions) as session:
            _store_contacts(session, page)
        summary.contacts += len(page)
        say(f"contacts: {summary.contacts:,}")
    for page in count_pages:
        with transaction(sessions) as session:
            _store_counts(session, page)
        summary.counts += len(page)
        say(f"activity counts: {summary.counts:,}")
    with transaction(sessions) as session:
        ids = list(session.scalars(select(SegmentDef.id).order_by(SegmentDef.id)))
    for segment_id in ids:
        with transaction(sessions) as session:
            segment = session.get(SegmentDef, segment_id)
            summary.segments[segment.name] = reconcile(session, segment, clock)
        added, dropped = summary.segments[segment.name]
        say(f"segment {segment.name!r}: +{added} -{dropped}")
    return summary


def pages(fetch: Callable[[str | None], dict]) -> Iterable[list[dict]]:
    """The `data` of each page `fetch(cursor)` answers, following next_cursor."""
    cursor = None
    while True:
        page = fetch(cursor)
        if page["data"]:
            yield page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return
