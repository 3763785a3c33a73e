"""Routes any monitor or client may call without a key: liveness and readiness (the API
description is services.gateway.openapi's). Metrics are not among them: they are served
on the metrics port only (plexus.metrics), which a deployment keeps off the public
network."""

from __future__ import annotations

from plexus.suite import BACKENDS
from services.gateway.logic import readiness
from services.gateway.routes.call import Call
from services.gateway.web.routing import Answer, Route


def health(_c: Call):
    return {"status": "ok"}


def ready(c: Call):
    """Kubernetes' readiness: this gateway's own database and broker (logic.readiness)."""
    gateway = c.gateway
    checks = readiness.KEPT.get(
        "ready",
        readiness.READY_SECONDS,
        lambda: readiness.gateway_checks(gateway.sessions, gateway.rpc),
    )
    ok = all(value == "ok" for value in checks.values())
    return Answer(200 if ok else 503, {"status": "ready" if ok else "not ready", "checks": checks})


def status(c: Call):
    """For people: every backing service, pinged at once."""
    services = readiness.KEPT.get(
        "status", readiness.status_seconds, lambda: readiness.service_pings(c.rpc, BACKENDS)
    )
    ok = all(value == "ok" for value in services.values())
    return Answer(
        200 if ok else 503, {"status": "ready" if ok else "not ready", "services": services}
    )


SYSTEM_ROUTES = (
    Route("GET", "/health", health, "The process is alive"),
    Route(
        "GET",
        "/ready",
        ready,
        "This gateway's database and broker answer (Kubernetes' readiness probe)",
    ),
    Route("GET", "/status", status, "Every backing service answers a ping (for people)"),
)
