"""The gateway service: every HTTP request goes through one catch-all entrypoint into
services.gateway.app.handle, which routes it by the table in services.gateway.routes."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta

import eventlet
import nameko
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.routing import Map, PathConverter

from plexus.db import Database, autocommit, transaction
from plexus.metrics import ServiceMetrics
from plexus.rpc import Caller
from services.gateway.app import Gateway, handle
from services.gateway.logic import apikeys, idempotency, replicas
from services.gateway.logic.admission import Admission
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


class Admitting(DependencyProvider):
    """The process's Admission (key cache, rate-limit buckets), and its heartbeat: every
    `replica_heartbeat_seconds` this replica stamps its row and learns how many replicas
    share the rate limits. The first beat is at start, so the count is right from the
    first request; a beat that fails (database away) keeps the last count."""

    def setup(self) -> None:
        settings = nameko.config.get("GATEWAY") or {}
        self.interval = float(settings.get("replica_heartbeat_seconds") or 1)
        self.replica_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.settings = settings
        self.running = False

    def start(self) -> None:
        # At start, not setup: the Database's engine is made in its own setup.
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        self.engine = database.engine
        self.admission = Admission(self.engine, self.settings)
        self.running = True
        self._beat()
        self.container.spawn_managed_thread(self._beating)

    def stop(self) -> None:
        self.running = False
        try:
            with autocommit(self.engine) as connection:
                replicas.leave(connection, self.replica_id)
        except Exception:  # the others stop counting it after stale_after anyway
            log.warning("could not remove this gateway replica's row", exc_info=True)

    def _beating(self) -> None:
        while self.running:
            eventlet.sleep(self.interval)
            if self.running:
                self._beat()

    def _beat(self) -> None:
        try:
            with autocommit(self.engine) as connection:
                self.admission.replicas = replicas.beat(
                    connection, self.replica_id, time.time(), stale_after=3 * self.interval)
        except Exception:
            log.warning("gateway heartbeat failed; keeping %d replicas",
                        self.admission.replicas, exc_info=True)

    def get_dependency(self, worker_ctx) -> Admission:
        return self.admission


class GatewayService:
    name = "gateway"

    db = Database("gateway")
    rpc = Caller()
    metrics = ServiceMetrics()
    bootstrap = BootstrapKey()
    admission = Admitting()

    def _gateway(self) -> Gateway:
        settings = nameko.config.get("GATEWAY") or {}
        return Gateway(self.db.session_factory, self.rpc, settings, self.admission)

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
