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
VARIANT_COUNTERS = ("queued", "refused", *EVENT_COUNTERS)


def of_variant(variant: str, name: str) -> str:
    """A variant's counter: "<variant>/<name>" (split.winner reads sent, open, click)."""
    return f"{variant}/{name}"


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


def _rate(part: int, sent: int) -> float:
    return round(part / sent, 4) if sent else 0.0


def variant_stats(variant: str, named: dict[str, int]) -> dict:
    counted = {name: named.get(of_variant(variant, name), 0) for name in VARIANT_COUNTERS}
    return {
        **counted,
        "open_rate": _rate(counted["open"], counted["sent"]),
        "click_rate": _rate(counted["click"], counted["sent"]),
    }


def stats(audience: int | None, named: dict[str, int], variants: list[str] = ()) -> dict:
    """`variants`: an A/B test's, whose own counters then come under stats.variants."""
    by_variant = {"variants": {v: variant_stats(v, named) for v in variants}} if variants else {}
    return {
        "audience": audience,
        "queued": named.get("queued", 0),
        "refused": {
            name.removeprefix(REFUSED): count
            for name, count in sorted(named.items())
            if name.startswith(REFUSED)
        },
        **{name: named.get(name, 0) for name in EVENT_COUNTERS},
        **by_variant,
    }
