"""Limits on the routes that take no API key (the tracking links /t/*, the subscription
form /forms/*, the provider webhooks /webhooks/*), per client address, and the form's
one confirmation email per address per interval. Both are token buckets of
ratelimit.py in the process's memory, each gateway replica holding its share, as the
API keys' are: nothing is asked of a database on the way.

The client address is the connection's peer; behind proxies, `trusted_proxy_depth`
says how many of them to trust, and the address is the entry of X-Forwarded-For the
outermost trusted one appended (anything to its left is the client's own claim)."""

from __future__ import annotations

import hashlib
import time

from services.gateway.logic.ratelimit import Limit, Taken, TokenBuckets
from services.gateway.settings import GatewaySettings

CONFIRMATION = "form-confirmation"
# Buckets held before the full ones are dropped, how often that is tried at most, and
# how many of the least recently used it looks at each time (a bounded pause).
PRUNE_ABOVE, PRUNE_EVERY_SECONDS, PRUNE_LOOKS = 10_000, 1.0, 2_000
# Beyond this many, the least recently used are dropped even if not full: a flood of
# client addresses gets some of them a fresh burst rather than the process's memory.
MOST_HELD = 100_000


def client_address(peer: str | None, forwarded_for: str | None, depth: int) -> str:
    """Who sent the request, trusting `depth` proxies in front of the gateway. A chain
    shorter than that did not come through them: its header is not trusted."""
    peer = peer or "-"
    if depth <= 0 or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    return hops[-depth] if len(hops) >= depth else peer


def _email_key(email: str) -> str:
    # Held as a digest: the process's memory keeps no address.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class ClientLimits:
    """One per gateway process (held by its Admission)."""

    def __init__(self, settings: GatewaySettings):
        self.limits: dict[str, Limit | None] = dict(settings.client_rate_limits)
        self.depth = settings.trusted_proxy_depth
        interval = settings.confirmation_interval_seconds
        self.limits[CONFIRMATION] = Limit(1 / interval, 1) if interval > 0 else None
        self.buckets = TokenBuckets()
        self.pruned_at = 0.0

    def address(self, peer: str | None, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, self.depth)

    def take(self, address: str, bucket: str, replicas: int) -> tuple[Taken, Limit] | None:
        """A token from the address's bucket of that class (with the limit it was taken
        under); None when the class has no limit."""
        limit = self.limits.get(bucket)
        if limit is None:
            return None
        now = time.time()
        self._prune(replicas, now)
        return self.buckets.take(address, bucket, limit.share(replicas), now), limit

    def confirmation_due(self, email: str, replicas: int) -> bool:
        """Whether a confirmation may go to `email` now (and count it if so)."""
        taken = self.take(_email_key(email), CONFIRMATION, replicas)
        return taken is None or not taken[0].wait

    def confirmation_not_sent(self, email: str, replicas: int) -> None:
        """The request that counted one was refused (a bad form): it does not count."""
        limit = self.limits.get(CONFIRMATION)
        if limit is not None:
            self.buckets.give_back(_email_key(email), CONFIRMATION, limit.share(replicas))

    def _prune(self, replicas: int, now: float) -> None:
        held = len(self.buckets.buckets)
        if held > MOST_HELD:
            self.buckets.forget_oldest(MOST_HELD)
        if held <= PRUNE_ABOVE or now - self.pruned_at < PRUNE_EVERY_SECONDS:
            return
        self.pruned_at = now

        def limit_of(bucket: str) -> Limit | None:
            limit = self.limits.get(bucket)
            return limit.share(replicas) if limit else None

        self.buckets.forget_full(limit_of, now, PRUNE_LOOKS)
