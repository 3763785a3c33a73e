"""Rate limits: a token bucket refilled at `per_second` up to `burst`, one bucket per
owner and class of route: per API key (sends are stricter than reads), and per client
address on the routes without a key (client_limits.py).

The buckets live in the gateway process's memory: taking a token costs no round trip
to anything (it was two statements and a row lock on every request). Several gateway
replicas share a key's limit by each holding its share of it, `1/replicas` of the rate
and of the burst (replicas.py counts them): with the requests of a key spread over the
replicas, as a load balancer spreads connections, the deployment admits the configured
burst and rate, and never more."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
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
    wait: float  # 0: the request may go on; else seconds until a token is there
    remaining: float  # tokens left in the bucket after this request


class TokenBuckets:
    """The buckets of one process. Safe to share between threads, green or not. An
    owner is an API key's id, or a client address. They are kept least recently used
    first, so that those of owners gone quiet can be dropped without a full scan."""

    def __init__(self):
        self.buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, owner: str, bucket: str, limit: Limit, now: float) -> Taken:
        """Take one token if there is one. A refused request spends nothing."""
        key = (owner, bucket)
        with self.lock:
            tokens, at = self.buckets.get(key, (limit.burst, now))
            tokens = min(limit.burst, tokens + max(0.0, now - at) * limit.per_second)
            if tokens >= 1:
                tokens -= 1
                wait = 0.0
            else:
                wait = (1 - tokens) / limit.per_second
            self.buckets[key] = (tokens, max(now, at))
            self.buckets.move_to_end(key)
        return Taken(wait, tokens)

    def give_back(self, owner: str, bucket: str, limit: Limit) -> None:
        """Return the token a request took that turned out not to count."""
        with self.lock:
            if (owner, bucket) in self.buckets:
                tokens, at = self.buckets[(owner, bucket)]
                self.buckets[(owner, bucket)] = (min(limit.burst, tokens + 1), at)

    def forget_full(self, limit_of, now: float, most: int) -> int:
        """Look at the `most` least recently used buckets and drop those refilled to the
        brim (`limit_of(bucket)`: its Limit): a full bucket is what a new one is, so this
        changes no answer, only the memory held for owners that come and go (client
        addresses). How many were dropped."""
        with self.lock:
            full = [
                key
                for key, (tokens, at) in itertools.islice(self.buckets.items(), most)
                if (limit := limit_of(key[1])) is None
                or tokens + max(0.0, now - at) * limit.per_second >= limit.burst
            ]
            for key in full:
                del self.buckets[key]
        return len(full)

    def forget_oldest(self, keep: int) -> int:
        """Drop the least recently used buckets beyond `keep`, full or not (their owners
        start again with a full bucket): memory stays bounded whatever comes."""
        with self.lock:
            over = max(0, len(self.buckets) - keep)
            for _ in range(over):
                self.buckets.popitem(last=False)
        return over
