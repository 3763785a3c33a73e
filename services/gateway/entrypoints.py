"""The gateway service: every HTTP request goes through one catch-all entrypoint into
services.gateway.app.handle, which routes it by the table in services.gateway.routes."""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import time
import uuid
from functools import partial

import eventlet
import nameko
from eventlet import wsgi
from eventlet.event import Event
from nameko.extensions import DependencyProvider, Entrypoint
from nameko.timer import timer
from nameko.web.server import HttpOnlyProtocol, WebServer
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from plexus.db import Database, autocommit, transaction
from plexus.metrics import ServiceMetrics, counter
from plexus.rpc import Caller
from plexus.tracing import Tracing
from services.gateway.app import Gateway, handle
from services.gateway.logic import apikeys, idempotency, replicas
from services.gateway.logic.admission import Admission
from services.gateway.settings import GatewaySettings, load_settings
from services.gateway.web.problems import HttpProblem, problem_body, problem_response

log = logging.getLogger(__name__)

REFUSED_CONNECTIONS = counter(
    "plexus_gateway_refused_connections_total",
    "Connections answered 503 and closed at once: GATEWAY.max_connections were open.",
)


# Answered, at once, to a connection over GATEWAY.max_connections; then it is closed.
_BUSY_BODY = json.dumps(
    problem_body(
        HttpProblem(503, "Service unavailable", "too many open connections; retry in a second")
    )
).encode()
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)
# Connections the kernel completes while the accept loop is busy: eventlet's default, 50,
# drops a burst's SYNs beyond it, and each such client waits a second to try again.
LISTEN_BACKLOG = 1024
# Descriptors the process keeps for itself (database, broker, metrics, logs).
RESERVED_DESCRIPTORS = 64


def connection_limits(settings: GatewaySettings) -> tuple[float, int]:
    """(seconds a connection may keep the server waiting on one read or write, how many
    connections may be open at once). A client that connects and sends nothing, or
    trickles its request, holds a green thread and a descriptor: the timeout closes it,
    and the cap keeps the process under its descriptor limit whatever clients do."""
    timeout, wanted = settings.socket_timeout_seconds, settings.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and wanted > soft - RESERVED_DESCRIPTORS:
        log.warning(
            "GATEWAY.max_connections %d is over this process's descriptor limit (%d); taking %d",
            wanted,
            soft,
            soft - RESERVED_DESCRIPTORS,
        )
        wanted = max(1, soft - RESERVED_DESCRIPTORS)
    return timeout, wanted


class DirectWebServer(WebServer):
    """nameko's web server (eventlet's WSGI server, a green thread a connection), whose
    application hands every request to the one DirectHttp entrypoint, with a timeout on
    every read and write of a connection and a cap on open connections (connection_limits)."""

    open_connections = 0

    def get_wsgi_app(self):
        return self._answer

    def start(self):  # nameko's, with a backlog for bursts of connections
        if not self._starting:
            self._starting = True
            self._sock = eventlet.listen(self.bind_addr, backlog=LISTEN_BACKLOG)
            self._sock.settimeout(None)
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)

    def get_wsgi_server(self, sock, wsgi_app, protocol=HttpOnlyProtocol, debug=False):
        self.socket_timeout, self.max_connections = connection_limits(load_settings(nameko.config))
        return wsgi.Server(
            sock,
            sock.getsockname(),
            wsgi_app,
            protocol=protocol,
            debug=debug,
            log=logging.getLogger("nameko.web.server"),
            socket_timeout=self.socket_timeout,
        )

    def run(self):
        # nameko's accept loop, with the cap: over it, a connection is answered 503 and
        # closed at once (it costs no thread), rather than left waiting in the backlog.
        while self._is_accepting:
            sock, address = self._sock.accept()
            if self.open_connections >= self.max_connections:
                self._refuse(sock)
                continue
            sock.settimeout(self.socket_timeout)
            self.open_connections += 1
            self.container.spawn_managed_thread(partial(self._serve, sock, address))

    def _serve(self, sock, address) -> None:
        try:
            self.process_request(sock, address)
        finally:
            self.open_connections -= 1

    def _refuse(self, sock) -> None:
        REFUSED_CONNECTIONS.inc()
        try:
            sock.settimeout(0)  # a fresh socket's send buffer takes these bytes whole
            sock.send(BUSY)
        except OSError:
            pass
        finally:
            sock.close()

    def _answer(self, environ, start_response):
        try:
            (entrypoint,) = self._providers
            response = entrypoint.answer(Request(environ))
        except Exception:
            log.exception("request failed before routing")
            response = problem_response(HttpProblem(500, "Internal error", "the error is logged"))
        return response(environ, start_response)


class DirectHttp(Entrypoint):
    """The gateway's one HTTP entrypoint: every path, every method; the gateway routes
    itself (services.gateway.routes), and answers problem+json.

    A request is answered in the green thread eventlet's server runs for its connection,
    by a service instance made once: nameko's HttpRequestHandler spawns a worker per
    request (a worker context, each dependency injected and its hooks run, the
    signature checked, the answer handed back between green threads), about a fifth of
    the gateway's CPU for a look-up. The gateway's dependencies are all shareable:
    Database hands out a session per transaction, Caller a caller with the deadline,
    Admitting the process's admission. nameko's max_workers does not bound these
    requests (each waits on its own RPC); the number of connections does."""

    server = DirectWebServer()

    def setup(self) -> None:
        self.server.register_provider(self)
        self.service = None
        self.in_flight = 0

    def stop(self) -> None:
        # Requests being answered finish first, as nameko's workers would: the gateway
        # is stopped (a deploy, a scale-down) while clients wait on it. Bounded by the
        # RPC deadline, which bounds each of them.
        deadline = time.monotonic() + float(nameko.config.get("RPC_TIMEOUT") or 10) + 1
        while self.in_flight and time.monotonic() < deadline:
            eventlet.sleep(0.02)
        self.server.unregister_provider(self)
        super().stop()

    def get_url_rule(self) -> Rule:  # nameko's WebServer asks; nothing matches on it
        return Rule("/", endpoint=self)

    def answer(self, request: Request):
        if self.service is None:
            # nameko starts the web server and the dependencies side by side: a request
            # that came first would find no bootstrap key yet (401 for a valid key).
            for dependency in self.container.dependencies:
                if isinstance(dependency, BootstrapKey):
                    dependency.stored.wait()
            service = self.container.service_cls()
            for dependency in self.container.dependencies:
                setattr(service, dependency.attr_name, dependency.get_dependency(None))
            self.service = service
        self.in_flight += 1
        try:
            return getattr(self.service, self.method_name)(request)
        finally:
            self.in_flight -= 1


direct_http = DirectHttp.decorator


class BootstrapKey(DependencyProvider):
    """PLEXUS_BOOTSTRAP_KEY, when set, is an admin key named `bootstrap` from the start."""

    def setup(self) -> None:
        self.stored = Event()  # the HTTP entrypoint answers nothing before this

    def start(self) -> None:
        secret = load_settings(nameko.config).bootstrap_key
        if secret:
            database = next(d for d in self.container.dependencies if isinstance(d, Database))
            with transaction(database.session_factory) as session:
                apikeys.ensure_bootstrap_key(session, str(secret))
        self.stored.send(True)


class Admitting(DependencyProvider):
    """The process's Admission (key cache, rate-limit buckets), and its heartbeat: every
    `replica_heartbeat_seconds` this replica stamps its row and learns how many replicas
    share the rate limits. The first beat is at start, so the count is right from the
    first request; a beat that fails (database away) keeps the last count."""

    def setup(self) -> None:
        self.settings = load_settings(nameko.config)
        self.interval = self.settings.heartbeat_seconds
        self.replica_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
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
                    connection, self.replica_id, time.time(), stale_after=3 * self.interval
                )
        except Exception:
            log.warning(
                "gateway heartbeat failed; keeping %d replicas",
                self.admission.replicas,
                exc_info=True,
            )

    def get_dependency(self, _worker_ctx) -> Admission:
        return self.admission


class GatewayService:
    name = "gateway"

    db = Database("gateway")
    tracing = Tracing()  # spans exported when TRACING.otlp_endpoint is set
    rpc = Caller()
    metrics = ServiceMetrics()
    bootstrap = BootstrapKey()
    admission = Admitting()

    def _gateway(self) -> Gateway:
        return Gateway(self.db.session_factory, self.rpc, self.admission.settings, self.admission)

    @direct_http
    def any_path(self, request):
        return handle(self._gateway(), request)

    @timer(interval=3600)
    def purge_idempotency_records(self):
        with self.db.transaction() as session:
            idempotency.purge_expired(session, load_settings(nameko.config).idempotency_ttl)
