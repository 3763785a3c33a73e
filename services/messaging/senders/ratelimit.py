"""A per-provider rate limit: at most `per_second` sends a second, with bursts of up
to one second's worth. Each worker takes the next free slot and sleeps until it comes
(a token bucket kept as the time its next token is due)."""

from __future__ import annotations

import time


class RateLimiter:
    def __init__(self, per_second: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self.burst = max(1.0, float(per_second or 0)) * self.interval
        self.clock, self.sleep = clock, sleep
        self.next_free = 0.0

    def acquire(self) -> float:
        """Wait for a slot; returns how long it waited. Unlimited when per_second is 0."""
        if not self.interval:
            return 0.0
        now = self.clock()
        # Unused time earns at most `burst` of credit.
        slot = max(self.next_free, now - self.burst + self.interval)
        self.next_free = slot + self.interval
        wait = max(0.0, slot - now)
        if wait:
            self.sleep(wait)
        return wait
