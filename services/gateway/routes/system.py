"""Routes any monitor or client may call without a key: liveness, readiness and the API
description. Metrics are not among them: they are served on the metrics port only
(plexus.metrics), which a deployment keeps off the public network."""

from __future__ import annotations

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


def openapi(c: Call):
    from services.gateway.openapi import spec

    return spec()


def docs(c: Call):
    from services.gateway.openapi import docs_page

    return Answer(200, docs_page(), {"Content-Type": "text/html; charset=utf-8"})


SYSTEM_ROUTES = (
    Route("GET", "/health", health, "The process is alive"),
    Route("GET", "/ready", ready, "Every backing service answers a ping"),
    Route("GET", "/openapi.json", openapi, "This API as OpenAPI 3.1"),
    Route("GET", "/docs", docs, "This API, readable"),
)
