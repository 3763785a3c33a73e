"""A sender's provider rate limit (`rate_limit` in its provider's config): messages a
second for the sender as a whole, however many processes of it run. Messaging keeps the
bucket (services/messaging/logic/rate_buckets.py, one per sender); each claim names it,
and the sender waits as long as the claim tells it to (delivery.py)."""

from __future__ import annotations


def shared_limit(sender: str, per_second: float) -> dict | None:
    """What the sender's claims carry: its bucket and rate; None when unlimited (0)."""
    return {"bucket": sender, "per_second": per_second} if per_second > 0 else None
