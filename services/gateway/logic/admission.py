"""Whether a request may go on: its API key (remembered for a moment, keycache.py),
the route's scope, and a token from the key's rate limit (in memory, ratelimit.py),
with no statement to the database on the request path (a key's look-up once per TTL,
and each replica's heartbeat once a second, are all it asks of it)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from plexus.db import autocommit
from services.gateway.logic import apikeys
from services.gateway.logic.apikeys import Principal
from services.gateway.logic.client_limits import ClientLimits
from services.gateway.logic.keycache import KeyCache
from services.gateway.logic.ratelimit import Limit, Taken, TokenBuckets
from services.gateway.settings import GatewaySettings


@dataclass(frozen=True)
class Admitted:
    principal: Principal
    headers: dict = field(default_factory=dict)  # the rate limit's, for the answer


class Admission:
    """One per gateway process: its key cache, its token buckets, and how many replicas
    share the limits (kept up to date by the process's heartbeat, replicas.py)."""

    def __init__(self, engine: Engine, settings: GatewaySettings):
        self.engine = engine
        self.settings = settings  # read once at start; the request path reads them here
        self.keys = KeyCache(self._look_up, settings.key_cache_seconds)
        self.limits: dict[str, Limit] = dict(settings.rate_limits)
        self.buckets = TokenBuckets()
        self.replicas = 1
        # The routes without a key: per client address (and the form's per email).
        self.clients = ClientLimits(settings)

    def _look_up(self, secret: str) -> Principal | None:
        with autocommit(self.engine) as connection:
            return apikeys.authenticate(connection, secret)

    def principal(self, secret: str) -> Principal | None:
        return self.keys.principal(secret)

    def take(self, principal: Principal, bucket: str) -> tuple[Taken, dict] | None:
        """A token from the key's bucket of that class, and the headers saying what is
        left of the limit; None when the class has no limit."""
        limit = self.limits.get(bucket)
        if limit is None:
            return None
        replicas = self.replicas
        taken = self.buckets.take(principal.key_id, bucket, limit.share(replicas), time.time())
        return taken, rate_headers(limit, taken, replicas)


def rate_headers(limit: Limit, taken: Taken, replicas: int) -> dict:
    """X-RateLimit-Limit: requests the key may make at once (its burst, refilled at its
    rate); X-RateLimit-Remaining: how many of them it may still make now. With several
    replicas each holds a share: what this one has left, times the replicas."""
    remaining = min(limit.burst, math.floor(taken.remaining * replicas))
    return {
        "X-RateLimit-Limit": str(math.floor(limit.burst)),
        "X-RateLimit-Remaining": str(max(0, remaining)),
    }
