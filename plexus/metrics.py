"""Prometheus metrics: each service process serves its own registry on its own port.

One name per thing, `plexus_<thing>_<unit>`, with the service as the `service` label when
every service has it (`plexus_rpc_duration_seconds{service="contacts"}`): one rule or
dashboard panel covers them all. A thing only one service has keeps that service in its
name (`plexus_gateway_requests_total`). No label names an API key or a contact. Metric
objects are made once per process (several containers may share a process in tests)."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import time
from datetime import datetime

import nameko
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer
from nameko.rpc import Rpc
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from plexus.config import metrics_port

log = logging.getLogger(__name__)

_METRICS: dict[str, object] = {}
_SERVED_PORTS: set[int] = set()

# Seconds; from a cached read (~1 ms) to the RPC deadline (10 s).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Seconds an event waits before it is handled: from a healthy 10 ms to a backlog of an hour.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


def _get(kind, name: str, documentation: str, labels=(), **kwargs):
    if name not in _METRICS:
        _METRICS[name] = kind(name, documentation, list(labels), **kwargs)
    return _METRICS[name]


def counter(name: str, documentation: str, labels=()) -> Counter:
    return _get(Counter, name, documentation, labels)


def gauge(name: str, documentation: str, labels=()) -> Gauge:
    return _get(Gauge, name, documentation, labels)


def histogram(name: str, documentation: str, labels=(), buckets=DURATION_BUCKETS) -> Histogram:
    return _get(Histogram, name, documentation, labels, buckets=buckets)


class ServiceMetric:
    """A family every service has, seen from one service: `service` is filled in, the
    other labels are given as usual (`.labels(method=...)`, or `.inc()` with none)."""

    def __init__(self, family, service: str):
        self.family, self.service = family, service

    def labels(self, *values, **named):
        if named:
            return self.family.labels(service=self.service, **named)
        return self.family.labels(self.service, *values)

    def __getattr__(self, name: str):  # inc / set / observe / set_function, no other labels
        return getattr(self.family.labels(self.service), name)


def service_counter(service: str, name: str, documentation: str, labels=()) -> ServiceMetric:
    return ServiceMetric(counter(name, documentation, ["service", *labels]), service)


def service_gauge(service: str, name: str, documentation: str, labels=()) -> ServiceMetric:
    return ServiceMetric(gauge(name, documentation, ["service", *labels]), service)


def service_histogram(
    service: str, name: str, documentation: str, labels=(), buckets=DURATION_BUCKETS
) -> ServiceMetric:
    return ServiceMetric(histogram(name, documentation, ["service", *labels], buckets), service)


def build_info(service: str) -> None:
    """plexus_build_info{service, version, revision} 1: which build each process runs
    (PLEXUS_REVISION, set by the image build, else "unknown")."""
    try:
        version = importlib.metadata.version("plexus")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    revision = os.environ.get("PLEXUS_REVISION") or "unknown"
    info = gauge(
        "plexus_build_info", "The build a process runs.", ["service", "version", "revision"]
    )
    info.labels(service, version, revision).set(1)


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Start the /metrics listener once per process and port; a port already taken by
    another process is logged, not fatal (the service still serves its callers)."""
    if not port or port in _SERVED_PORTS:
        return
    try:
        start_http_server(port, addr=host)
        _SERVED_PORTS.add(port)
    except OSError as error:
        log.warning("metrics port %s unavailable: %s", port, error)


class ServiceMetrics(DependencyProvider):
    """Times every RPC and event-handler worker and counts its failures by method/event,
    and serves /metrics on the service's configured port."""

    def setup(self) -> None:
        service = self.container.service_name
        build_info(service)
        self.rpc_duration = service_histogram(
            service, "plexus_rpc_duration_seconds", "Time to answer an RPC.", ["method"]
        )
        self.rpc_errors = service_counter(
            service, "plexus_rpc_errors_total", "RPCs that raised, by error.", ["method", "error"]
        )
        self.event_duration = service_histogram(
            service,
            "plexus_event_handler_duration_seconds",
            "Time to handle an event.",
            ["event"],
        )
        self.event_errors = service_counter(
            service,
            "plexus_event_handler_errors_total",
            "Event handlers that raised.",
            ["event", "error"],
        )
        self.event_lag = service_histogram(
            service,
            "plexus_event_lag_seconds",
            "From an event's occurred_at to its handling here (ingest lag).",
            ["source"],
            buckets=LAG_BUCKETS,
        )
        self.started: dict[object, float] = {}

    def start(self) -> None:
        serve(
            metrics_port(nameko.config, self.container.service_name),
            nameko.config.get("METRICS_HOST") or "127.0.0.1",
        )

    def worker_setup(self, worker_ctx) -> None:
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, _result=None, exc_info=None) -> None:
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, Rpc):
            self.rpc_duration.labels(method=entrypoint.method_name).observe(elapsed)
            if exc_info:
                self.rpc_errors.labels(
                    method=entrypoint.method_name, error=exc_info[0].__name__
                ).inc()
        elif isinstance(entrypoint, Consumer):
            self._events_handled(entrypoint, worker_ctx, elapsed, exc_info)

    def _events_handled(self, entrypoint, worker_ctx, elapsed: float, exc_info) -> None:
        """One message, or a batch (plexus.event_consumer): each event is observed with
        its share of the batch's time, so rates and durations read the same either way.
        A batch that failed counts its errors once split down to the failing event."""
        first = worker_ctx.args[0] if worker_ctx.args else None
        payloads = first if isinstance(first, list) else [first]
        share = elapsed / max(1, len(payloads))
        source = getattr(entrypoint, "source", "-")
        now = time.time()
        for payload in payloads:
            event = _event_name(entrypoint, payload)
            self.event_duration.labels(event=event).observe(share)
            lag = _lag_seconds(payload, now)
            if lag is not None:
                self.event_lag.labels(source=source).observe(lag)
            if exc_info and len(payloads) == 1:
                self.event_errors.labels(event=event, error=exc_info[0].__name__).inc()


def _lag_seconds(payload, now: float) -> float | None:
    occurred = payload.get("occurred_at") if isinstance(payload, dict) else None
    try:
        moment = datetime.fromisoformat(str(occurred).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, now - moment.timestamp())


def _event_name(entrypoint, payload) -> str:
    """nameko's @event_handler knows its event; plexus.consumer's queue carries several,
    and each payload names its own."""
    if isinstance(entrypoint, EventHandler):
        return entrypoint.event_type
    if isinstance(payload, dict) and isinstance(payload.get("event"), str):
        return payload["event"]
    return entrypoint.method_name
