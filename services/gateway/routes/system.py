"""Routes any monitor or client may call without a key: liveness, readiness, metrics,
and the API description."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from plexus.errors import Unavailable
from plexus.suite import BACKENDS
from services.gateway.routes.call import Call
from services.gateway.web.routing import Answer, Route

READY_TIMEOUT = 2.0


def health(c: Call):
    return {"status": "ok"}


def ready(c: Call):
    """Ready when every backing service answers a ping over the broker."""
    services, ok = {}, True
    for service in BACKENDS:
        try:
            c.rpc(service, "ping", timeout=READY_TIMEOUT)
            services[service] = "ok"
        except Unavailable as error:
            services[service], ok = error.detail, False
    return Answer(200 if ok else 503, {"status": "ready" if ok else "not ready",
                                       "services": services})


def metrics(c: Call):
    return Answer(200, generate_latest(REGISTRY), {"Content-Type": CONTENT_TYPE_LATEST})


SYSTEM_ROUTES = (
    Route("GET", "/health", health, "The process is alive"),
    Route("GET", "/ready", ready, "Every backing service answers a ping"),
    Route("GET", "/metrics", metrics, "Prometheus metrics of the gateway"),
)
