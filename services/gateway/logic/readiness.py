"""Is the gateway ready, and is the suite? Two questions with two routes:

- `/ready`, Kubernetes' readiness probe of a gateway pod: what this process needs to
  answer anything at all, its own database and the broker. A stopped sender or a slow
  segments service must not take every gateway pod out of its Service: their routes
  already answer 503 on their own, within the RPC deadline.
- `/status`, for people and the tests: every backing service pinged, all at once, so the
  report takes one ping's deadline however many are silent.

Both are unauthenticated, so each answer is kept a few seconds (per process): a client
calling them in a loop costs a dictionary look-up, not a database query, a broker round
trip or a dozen RPCs each time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import eventlet
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from plexus.errors import Unavailable
from plexus.rpc import RpcCaller

PING_TIMEOUT = 2.0
READY_SECONDS = 1.0  # /ready: k8s asks every 5 s; a restart of the broker shows in 1 s
# /status: all well is kept 3 s; a service missing 1 s, so that whoever waits for the suite
# to come up (a deploy script, the tests) sees it as soon as it is.
STATUS_SECONDS = 3.0
STATUS_FAILING_SECONDS = 1.0


class Kept:
    """The last answer of each check, reused for `seconds` (or `seconds(answer)`); one
    caller computes a stale one while the others wait for it (so a burst makes one round
    of pings)."""

    def __init__(self):
        self.answers: dict[str, tuple[float, object]] = {}
        self.locks: dict[str, threading.Lock] = {}

    def get(
        self, name: str, seconds: float | Callable[[object], float], compute: Callable[[], object]
    ) -> object:
        kept = self.answers.get(name)
        if kept and time.monotonic() < kept[0]:
            return kept[1]
        with self.locks.setdefault(name, threading.Lock()):
            kept = self.answers.get(name)
            if kept and time.monotonic() < kept[0]:
                return kept[1]
            answer = compute()
            keep = seconds(answer) if callable(seconds) else seconds
            self.answers[name] = (time.monotonic() + keep, answer)
            return answer


def status_seconds(services: dict[str, str]) -> float:
    """How long a /status answer is kept: longer when every service answered."""
    ok = all(value == "ok" for value in services.values())
    return STATUS_SECONDS if ok else STATUS_FAILING_SECONDS


KEPT = Kept()


def gateway_checks(sessions: sessionmaker, rpc: RpcCaller) -> dict[str, str]:
    """{"database": "ok" | why not, "broker": "ok" | why not}."""
    checks = {}
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure is the answer: not ready
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        rpc.client.check()
        checks["broker"] = "ok"
    except Unavailable as error:
        checks["broker"] = error.detail
    return checks


def service_pings(rpc: RpcCaller, services) -> dict[str, str]:
    """{service: "ok" | why not}, every service pinged at once."""

    def ping(service: str) -> tuple[str, str]:
        try:
            rpc(service, "ping", timeout=PING_TIMEOUT)
            return service, "ok"
        except Unavailable as error:
            return service, error.detail

    return dict(eventlet.GreenPool(len(services) or 1).imap(ping, services))
