"""The counters behind a campaign's `stats`: added to in the transaction that records
what happened (a dispatch, an event), read with one query for a page of campaigns."""

from __future__ import annotations

from collections import Counter as Tally

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.bulk import add_counts
from plexus.contract.campaigns import EVENT_COUNTERS
from services.campaigns.models import Counter

REFUSED = "refused."


def add(session: Session, campaign_id: str, tally: Tally) -> None:
    rows = [
        {"campaign_id": campaign_id, "name": name, "count": count}
        for name, count in sorted(tally.items())
        if count
    ]
    add_counts(session, Counter, rows, ["campaign_id", "name"])


def counts(session: Session, campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {campaign_id: {} for campaign_id in campaign_ids}
    if campaign_ids:
        rows = session.execute(
            select(Counter.campaign_id, Counter.name, Counter.count).where(
                Counter.campaign_id.in_(campaign_ids)
            )
        )
        for campaign_id, name, count in rows:
            found[campaign_id][name] = count
    return found


def stats(audience: int | None, named: dict[str, int]) -> dict:
    return {
        "audience": audience,
        "queued": named.get("queued", 0),
        "refused": {
            name.removeprefix(REFUSED): count
            for name, count in sorted(named.items())
            if name.startswith(REFUSED)
        },
        **{name: named.get(name, 0) for name in EVENT_COUNTERS},
    }
