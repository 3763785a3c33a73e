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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import nameko
from nameko.extensions import DependencyProvider
from opentelemetry import trace as otel
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

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


def _parent(traceparent: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid W3C traceparent, else None."""
    found = _TRACEPARENT.fullmatch(traceparent or "")
    if found and found.group(1) != _NO_TRACE and found.group(2) != _NO_SPAN:
        return found.group(1), found.group(2), found.group(3)
    return None


def _request_id(request_id: str | None) -> str:
    return request_id if request_id and _REQUEST_ID.fullmatch(request_id) else secrets.token_hex(16)


def continued(request_id: str | None, traceparent: str | None) -> Trace:
    """The trace a request or message carries on, as a new span of it; a new trace (and
    request id) for what is missing or malformed."""
    parent = _parent(traceparent)
    trace_id, _, flags = parent or (secrets.token_hex(16), "", "01")
    return Trace(_request_id(request_id), trace_id, _span(), flags)


# ---- spans, exported over OTLP when configured (export_spans); without, only the ids
# travel and nothing is recorded.

_tracer: otel.Tracer | None = None
_provider: TracerProvider | None = None


def export_spans(service: str, endpoint: str | None = None, processor=None) -> None:
    """Record this process's spans and send them to an OpenTelemetry collector's OTLP/HTTP
    `endpoint` (`processor` instead: tests hand an in-memory one)."""
    global _tracer, _provider
    _provider = TracerProvider(resource=Resource.create({"service.name": f"plexus-{service}"}))
    _provider.add_span_processor(
        processor or BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    )
    _tracer = _provider.get_tracer("plexus")


def stop_exporting() -> None:
    """Send what is still buffered and stop recording."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer, _provider = None, None


def name_span(name: str) -> None:
    """Names the current span once what it is became known (the gateway's route)."""
    otel.get_current_span().update_name(name)


@contextmanager
def span(
    name: str,
    request_id: str | None,
    traceparent: str | None,
    kind: otel.SpanKind = otel.SpanKind.SERVER,
) -> Iterator[Trace]:
    """One hop of a trace (a request, an RPC answered, a batch of events handled): the
    Trace current for its duration, recorded as a span when export is on."""
    if _tracer is None:
        with using(continued(request_id, traceparent)) as trace:
            yield trace  # type: ignore[misc]
        return
    parent = _parent(traceparent)
    context = None
    if parent:
        remote = otel.SpanContext(
            int(parent[0], 16), int(parent[1], 16), True, otel.TraceFlags(int(parent[2], 16))
        )
        context = otel.set_span_in_context(otel.NonRecordingSpan(remote))
    request_id = _request_id(request_id)
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes={"plexus.request_id": request_id}
    ) as recorded:
        ids = recorded.get_span_context()
        trace = Trace(
            request_id, f"{ids.trace_id:032x}", f"{ids.span_id:016x}", f"{ids.trace_flags:02x}"
        )
        with using(trace):
            yield trace


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
    """Each worker of the service runs as a hop of the trace its message carried
    (nameko context data): its log lines, the RPCs it makes and the events it records
    carry the trace on, and with export on (config TRACING.otlp_endpoint) it is a span.
    A worker started by a message without one runs outside any trace."""

    def __init__(self) -> None:
        self.hops: dict = {}

    def setup(self) -> None:
        endpoint = (nameko.config.get("TRACING") or {}).get("otlp_endpoint")
        if endpoint and _tracer is None:
            export_spans(self.container.service_name, endpoint)

    def stop(self) -> None:
        stop_exporting()

    def worker_setup(self, worker_ctx) -> None:
        data = worker_ctx.context_data or {}
        if data.get(REQUEST_ID) or data.get(TRACEPARENT):
            hop = ExitStack()
            name = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"
            hop.enter_context(span(name, data.get(REQUEST_ID), data.get(TRACEPARENT)))
            self.hops[worker_ctx] = hop

    def worker_result(self, worker_ctx, _result=None, exc_info=None) -> None:
        if exc_info and worker_ctx in self.hops:
            current_span = otel.get_current_span()
            current_span.record_exception(exc_info[1])
            current_span.set_status(otel.Status(otel.StatusCode.ERROR))

    def worker_teardown(self, worker_ctx) -> None:
        hop = self.hops.pop(worker_ctx, None)
        if hop is not None:
            hop.close()  # the same green thread as worker_setup

    def get_dependency(self, _worker_ctx) -> None:
        return None
