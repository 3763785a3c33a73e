"""API keys remembered by a gateway process for a moment, so a request is admitted
without a statement to the database.

A key found valid is trusted for `ttl` seconds, then looked up again: a revoked (or
deleted) key stops working on every replica within `ttl` of the commit, with no event
to miss. At the default of 0.5 s a busy key costs each replica two look-ups a second.
Keys that were not found are not remembered: a key made a moment ago works at once."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from services.gateway.logic.apikeys import Principal

MAX_ENTRIES = 10_000  # past this, expired entries are dropped (keys made and forgotten)


class KeyCache:
    def __init__(
        self,
        look_up: Callable[[str], Principal | None],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.look_up = look_up  # secret -> Principal, or None when not valid
        self.ttl = ttl
        self.clock = clock
        # By the secret's hash: the process holds no secret longer than a request.
        self.entries: dict[str, tuple[Principal, float]] = {}
        self.lock = threading.Lock()

    def principal(self, secret: str) -> Principal | None:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        now = self.clock()
        entry = self.entries.get(digest)
        if entry is not None and entry[1] > now:
            return entry[0]
        principal = self.look_up(secret)
        with self.lock:
            if principal is None:
                self.entries.pop(digest, None)
            else:
                self.entries[digest] = (principal, now + self.ttl)
            if len(self.entries) > MAX_ENTRIES:
                self.entries = {k: e for k, e in self.entries.items() if e[1] > now}
        return principal
