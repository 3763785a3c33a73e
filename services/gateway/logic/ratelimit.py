"""Rate limits per API key: a token bucket refilled at `per_second` up to `burst`,
one bucket per key and class of route (sends are stricter than reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.gateway.models import RateLimitBucket


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: float

    @classmethod
    def from_config(cls, settings: dict | None) -> Limit | None:
        """None when the class has no limit (per_second 0 or not configured)."""
        settings = settings or {}
        per_second = float(settings.get("per_second") or 0)
        if per_second <= 0:
            return None
        return cls(per_second, max(1.0, float(settings.get("burst") or per_second)))


def take(session: Session, api_key_id: str, bucket: str, limit: Limit, now: float) -> float:
    """Take one token. Returns 0 when the request may go on, else the seconds until a
    token is there (the Retry-After)."""
    row = session.get(RateLimitBucket, (api_key_id, bucket), with_for_update=True)
    if row is None:
        row = RateLimitBucket(api_key_id=api_key_id, bucket=bucket, tokens=limit.burst,
                              updated_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another process made it first: use theirs
            row = session.get(RateLimitBucket, (api_key_id, bucket), with_for_update=True)
    tokens = min(limit.burst, row.tokens + max(0.0, now - row.updated_at) * limit.per_second)
    row.updated_at = now
    if tokens < 1:
        row.tokens = tokens
        return (1 - tokens) / limit.per_second
    row.tokens = tokens - 1
    return 0.0
