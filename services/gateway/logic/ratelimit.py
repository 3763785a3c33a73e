"""Rate limits per API key: a token bucket refilled at `per_second` up to `burst`, one
bucket per key and class of route (sends are stricter than reads).

The buckets live in the gateway process's memory: taking a token costs no round trip
to anything (it was two statements and a row lock on every request). Several gateway
replicas share a key's limit by each holding its share of it, `1/replicas` of the rate
and of the burst (replicas.py counts them): with the requests of a key spread over the
replicas, as a load balancer spreads connections, the deployment admits the configured
burst and rate, and never more."""

from __future__ import annotations

import threading
from dataclasses import dataclass


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

    def share(self, replicas: int) -> Limit:
        """One replica's part of the limit; at least one request at a time, or a key
        whose burst is smaller than the number of replicas could never be served."""
        replicas = max(1, replicas)
        return Limit(self.per_second / replicas, max(1.0, self.burst / replicas))


@dataclass(frozen=True)
class Taken:
    wait: float        # 0: the request may go on; else seconds until a token is there
    remaining: float   # tokens left in the bucket after this request


class TokenBuckets:
    """The buckets of one process. Safe to share between threads, green or not."""

    def __init__(self):
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> tokens, at
        self.lock = threading.Lock()

    def take(self, api_key_id: str, bucket: str, limit: Limit, now: float) -> Taken:
        """Take one token if there is one. A refused request spends nothing."""
        with self.lock:
            tokens, at = self.buckets.get((api_key_id, bucket), (limit.burst, now))
            tokens = min(limit.burst, tokens + max(0.0, now - at) * limit.per_second)
            if tokens >= 1:
                tokens -= 1
                wait = 0.0
            else:
                wait = (1 - tokens) / limit.per_second
            self.buckets[(api_key_id, bucket)] = (tokens, max(now, at))
        return Taken(wait, tokens)
