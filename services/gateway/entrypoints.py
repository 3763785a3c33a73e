"""The gateway service: every HTTP request goes through one catch-all entrypoint into
services.gateway.app.handle, which routes it by the table in services.gateway.routes."""

from __future__ import annotations

import logging
from datetime import timedelta

import nameko
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.routing import Map, PathConverter

from plexus.db import Database, transaction
from plexus.metrics import ServiceMetrics
from plexus.rpc import Caller
from services.gateway.app import Gateway, handle
from services.gateway.logic import apikeys, idempotency
from services.gateway.web.problems import HttpProblem, problem_response

log = logging.getLogger(__name__)
METHODS = "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS"


class AnyPathConverter(PathConverter):
    """werkzeug's `path` stops at a newline (its regex uses `.`); a path is a path,
    whatever it holds: the gateway's own router decides, and answers problem+json."""

    regex = "[^/](?:.|\n)*?"


class GatewayWebServer(WebServer):
    def make_url_map(self) -> Map:
        # As nameko's, with the converter known before the rules are compiled.
        url_map = Map(converters={"anypath": AnyPathConverter})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map


class ProblemHttpHandler(HttpRequestHandler):
    """nameko's handler, answering problem+json instead of a plain-text 500."""

    server = GatewayWebServer()

    def response_from_exception(self, exc):
        log.error("request failed before routing: %s", type(exc).__name__)
        return problem_response(HttpProblem(500, "Internal error", "the error is logged"))


http = ProblemHttpHandler.decorator


class BootstrapKey(DependencyProvider):
    """PLEXUS_BOOTSTRAP_KEY, when set, is an admin key named `bootstrap` from the start."""

    def start(self) -> None:
        secret = (nameko.config.get("GATEWAY") or {}).get("bootstrap_key")
        if not secret:
            return
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        with transaction(database.session_factory) as session:
            apikeys.ensure_bootstrap_key(session, str(secret))


class GatewayService:
    name = "gateway"

    db = Database("gateway")
    rpc = Caller()
    metrics = ServiceMetrics()
    bootstrap = BootstrapKey()

    def _gateway(self) -> Gateway:
        settings = nameko.config.get("GATEWAY") or {}
        return Gateway(self.db.session_factory, self.rpc, settings)

    @http(METHODS, "/")
    def root(self, request):
        return handle(self._gateway(), request)

    @http(METHODS, "/<anypath:path>")
    def any_path(self, request, path):
        return handle(self._gateway(), request)

    @timer(interval=3600)
    def purge_idempotency_records(self):
        hours = float((nameko.config.get("GATEWAY") or {}).get("idempotency_ttl_hours") or 24)
        with self.db.transaction() as session:
            idempotency.purge_expired(session, timedelta(hours=hours))
