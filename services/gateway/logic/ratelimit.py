"""Rate limits per API key: a token bucket refilled at `per_second` up to `burst`,
one bucket per key and class of route (sends are stricter than reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, insert, update
from sqlalchemy.exc import IntegrityError

from services.gateway.models import RateLimitBucket

BUCKETS = RateLimitBucket.__table__


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


def take(connection: Connection, api_key_id: str, bucket: str, limit: Limit,
         now: float) -> float:
    """Take one token. Returns 0 when the request may go on, else the seconds until a
    token is there (the Retry-After).

    One UPDATE computes the refill, takes the token and says whether it did: every
    request of a key goes through this row, so its lock is held for one statement only
    (in autocommit), not across round trips."""
    here = (BUCKETS.c.api_key_id == api_key_id) & (BUCKETS.c.bucket == bucket)
    elapsed = case((BUCKETS.c.updated_at < now, now - BUCKETS.c.updated_at), else_=0.0)
    refilled = BUCKETS.c.tokens + elapsed * limit.per_second
    tokens = case((refilled > limit.burst, limit.burst), else_=refilled)
    granted = tokens >= 1
    spend = update(BUCKETS).where(here).values(
        tokens=case((granted, tokens - 1), else_=tokens), granted=granted, updated_at=now,
    ).returning(BUCKETS.c.tokens, BUCKETS.c.granted)
    answer = connection.execute(spend).first()
    if answer is None:  # the key's first request of this class
        try:
            connection.execute(insert(BUCKETS).values(
                api_key_id=api_key_id, bucket=bucket, tokens=limit.burst - 1, granted=True,
                updated_at=now))
            return 0.0
        except IntegrityError:  # another process made it first: spend from theirs
            answer = connection.execute(spend).first()
    left, took = answer
    return 0.0 if took else (1 - left) / limit.per_second
