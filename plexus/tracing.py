"""Following one request across services: a request id and a W3C trace context.

The gateway takes the caller's `X-Request-Id` (or makes one) and `traceparent` (or starts
a trace), and makes them current for the request's green thread. From there they travel:
- in RPCs, as nameko context headers (`nameko.request_id`, `nameko.traceparent`), which
  the called service's `Tracing` dependency makes current in its worker;
- in events and deliveries, as `request_id` / `traceparent` keys of the payload (stored in
  the outbox with it), which the relay turns into the same headers;
- into every log line written while one is current (TraceFilter, plexus.logs).

Each hop is a new span of the same trace: the traceparent a service sends names its own
span as the parent.
"""

from __future__ import annotations

import contextvars
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

REQUEST_ID, TRACEPARENT = "request_id", "traceparent"
# What a caller may send as its request id: it goes into logs and headers as is.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/=+-]{1,128}")
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_NO_TRACE, _NO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True)
class Trace:
    request_id: str
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits: this hop's span
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def fields(self) -> dict[str, str]:
        """The keys an event payload or a message's context headers carry."""
        return {REQUEST_ID: self.request_id, TRACEPARENT: self.traceparent}


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("trace", default=None)


def current() -> Trace | None:
    return _current.get()


def _span() -> str:
    return secrets.token_hex(8)


def continued(request_id: str | None, traceparent: str | None) -> Trace:
    """The trace a request or message carries on, as a new span of it; a new trace (and
    request id) for what is missing or malformed."""
    request_id = request_id if request_id and _REQUEST_ID.fullmatch(request_id) else None
    found = _TRACEPARENT.fullmatch(traceparent or "")
    if found and found.group(1) != _NO_TRACE and found.group(2) != _NO_SPAN:
        trace_id, flags = found.group(1), found.group(3)
    else:
        trace_id, flags = secrets.token_hex(16), "01"
    return Trace(request_id or secrets.token_hex(16), trace_id, _span(), flags)


@contextmanager
def using(trace: Trace | None) -> Iterator[Trace | None]:
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def event_fields() -> dict[str, str]:
    """What an event recorded now carries of the current trace (nothing outside one)."""
    trace = current()
    return trace.fields() if trace else {}


def context_headers(prefix: str = "nameko") -> dict[str, str]:
    """The current trace as nameko context headers, for a message sent now."""
    return {f"{prefix}.{key}": value for key, value in event_fields().items()}


def headers_of(payload: dict, prefix: str = "nameko") -> dict[str, str]:
    """The context headers of an event or delivery whose payload carries a trace."""
    return {
        f"{prefix}.{key}": payload[key]
        for key in (REQUEST_ID, TRACEPARENT)
        if isinstance(payload.get(key), str)
    }


class Tracing(DependencyProvider):
    """Makes the trace a worker's message carried (nameko context data) current for the
    worker's green thread: its log lines, the RPCs it makes and the events it records
    carry it on. A worker started by a message without one runs outside any trace."""

    def __init__(self) -> None:
        self.tokens: dict = {}

    def worker_setup(self, worker_ctx) -> None:
        data = worker_ctx.context_data or {}
        if data.get(REQUEST_ID) or data.get(TRACEPARENT):
            trace = continued(data.get(REQUEST_ID), data.get(TRACEPARENT))
            self.tokens[worker_ctx] = _current.set(trace)

    def worker_teardown(self, worker_ctx) -> None:
        token = self.tokens.pop(worker_ctx, None)
        if token is not None:
            _current.reset(token)  # the same green thread as worker_setup

    def get_dependency(self, _worker_ctx) -> None:
        return None
