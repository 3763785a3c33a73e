"""One HTTP request, start to finish: route, authenticate, read the body, honour
Idempotency-Key, call the handler, and answer JSON or problem+json. Plain code: the
nameko entrypoint hands it the request and the gateway's dependencies."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from werkzeug.wrappers import Request, Response

from plexus import tracing
from plexus.db import transaction
from plexus.errors import PlexusError
from plexus.metrics import counter, histogram
from plexus.rpc import RpcCaller
from services.gateway.logic import idempotency
from services.gateway.logic.admission import Admission, Admitted
from services.gateway.openapi import OPENAPI_ROUTES
from services.gateway.routes import ROUTES
from services.gateway.routes.call import Call
from services.gateway.settings import GatewaySettings
from services.gateway.web.cors import cors_headers
from services.gateway.web.problems import (
    HttpProblem,
    forbidden,
    problem_response,
    rate_limited,
    unauthorized,
)
from services.gateway.web.requests import check_query, parse_json_object, read_body
from services.gateway.web.routing import Answer, Route, Router

log = logging.getLogger(__name__)

ROUTER = Router((*ROUTES, *OPENAPI_ROUTES))
JSON_TYPE = "application/json"

# No label names the API key: metrics are read by more people than keys are shown to.
REQUESTS = counter(
    "plexus_gateway_requests_total", "HTTP requests answered.", ["route", "method", "status"]
)
DURATION = histogram(
    "plexus_gateway_request_duration_seconds", "Time to answer a request.", ["route", "method"]
)


@dataclass
class Gateway:
    """What a request needs from the running gateway."""

    sessions: sessionmaker
    rpc: RpcCaller
    settings: GatewaySettings
    admission: Admission  # the process's key cache and rate-limit buckets


def handle(gateway: Gateway, request: Request) -> Response:
    """The answer to one request, under the trace it carries or a new one (its
    X-Request-Id is on every answer, in every log line and RPC the request causes)."""
    with tracing.span(
        request.method, request.headers.get("X-Request-Id"), request.headers.get("traceparent")
    ) as trace:
        response = _answer(gateway, request)
    response.headers["X-Request-Id"] = trace.request_id
    return response


def _answer(gateway: Gateway, request: Request) -> Response:
    started = time.perf_counter()
    route_label, admitted, route = "unmatched", None, None
    try:
        route, params = ROUTER.match(request.method, request.path)
        route_label = route.path
        tracing.name_span(f"{request.method} {route.path}")
        admitted = _admit(gateway, request, route)
        principal = admitted.principal if admitted else None
        response = _run(gateway, request, route, params, principal)
        if route.erases and response.status_code < 300:
            with transaction(gateway.sessions) as session:
                idempotency.forget_mentions(session, params[route.erases])
    except PlexusError as error:
        response = problem_response(error)
    except Exception:
        log.exception("unhandled error answering %s %s", request.method, route_label)
        response = problem_response(HttpProblem(500, "Internal error", "the error is logged"))
    if admitted:  # every answer to an admitted request (a stored idempotent one too)
        response.headers.update(admitted.headers)
    if route is not None and route.cors:  # errors too: the page must be able to read them
        response.headers.update(
            cors_headers(
                request.method, request.headers.get("Origin"), gateway.settings.allowed_origins
            )
        )
    REQUESTS.labels(route_label, request.method, str(response.status_code)).inc()
    DURATION.labels(route_label, request.method).observe(time.perf_counter() - started)
    return response


def _admit(gateway: Gateway, request: Request, route: Route) -> Admitted | None:
    """The caller's key, checked for the route's scope, with a token taken from its rate
    limit: in the process's memory (services.gateway.logic.admission). A route without
    a key takes its token from the client address's bucket instead."""
    if route.scope is None:
        if route.client_limit:
            _limit_client(gateway, request, route.client_limit)
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized("send an API key as 'Authorization: Bearer <key>'")
    principal = gateway.admission.principal(secret.strip())
    if principal is None:
        raise unauthorized("the API key is not valid or was revoked")
    if not principal.allows(route.scope):
        raise forbidden(route.scope)
    spent = gateway.admission.take(principal, route.rate_limit)
    if spent is None:
        return Admitted(principal)
    taken, headers = spent
    if taken.wait:
        raise rate_limited(taken.wait, route.rate_limit, headers)
    return Admitted(principal, headers)


def _limit_client(gateway: Gateway, request: Request, bucket: str) -> None:
    clients = gateway.admission.clients
    address = clients.address(request.remote_addr, request.headers.get("X-Forwarded-For"))
    spent = clients.take(address, bucket, gateway.admission.replicas)
    if spent is not None and spent[0].wait:
        raise rate_limited(spent[0].wait, bucket, who="this client address")


def _run(gateway: Gateway, request: Request, route: Route, params: dict, principal):
    check_query(request.args)
    raw = (
        read_body(request, gateway.settings.body_limits[route.body_limit])
        if route.body or route.raw_body
        else b""
    )
    body = parse_json_object(raw, required=not route.body_optional) if route.body else None
    call = Call(
        params=params,
        args=request.args,
        body=body,
        principal=principal,
        rpc=gateway.rpc,
        admission=gateway.admission,
        raw_body=raw,
        headers=request.headers,
        url=request.url,
        gateway=gateway,
    )
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or key is None or principal is None:
        return _respond(route, call)

    ttl, abandoned = gateway.settings.idempotency_ttl, gateway.settings.idempotency_abandoned_after
    print_ = idempotency.fingerprint(request.method, request.full_path, raw)
    with transaction(gateway.sessions) as session:
        stored = idempotency.claim(
            session,
            principal.key_id,
            key,
            print_,
            ttl,
            path=request.path,
            abandoned_after=abandoned,
        )
    if stored is not None:
        return Response(
            stored.body,
            status=stored.status,
            headers={**stored.headers, "Idempotent-Replayed": "true"},
        )
    try:
        response = _respond(route, call)
    except PlexusError as error:
        response = problem_response(error)
    except BaseException:
        _forget(gateway, principal.key_id, key)
        raise
    if response.status_code >= 500:
        _forget(gateway, principal.key_id, key)
    else:
        answer = idempotency.StoredAnswer(
            response.status_code, dict(response.headers), response.get_data(as_text=True)
        )
        with transaction(gateway.sessions) as session:
            idempotency.store(session, principal.key_id, key, answer)
    return response


def _forget(gateway: Gateway, key_id: str, key: str) -> None:
    with transaction(gateway.sessions) as session:
        idempotency.release(session, key_id, key)


def _respond(route: Route, call: Call) -> Response:
    result = route.handler(call)
    answer = result if isinstance(result, Answer) else Answer(route.status, result)
    headers = dict(answer.headers)
    if answer.status == 204:
        return Response(status=204, headers=headers)
    if isinstance(answer.payload, bytes | str):
        return Response(answer.payload, status=answer.status, headers=headers)
    if isinstance(answer.payload, Iterator):
        # A download: werkzeug sends each chunk as the generator makes it, so the whole
        # body is never in memory (the export of a contact's feed).
        return Response(
            answer.payload, status=answer.status, headers=headers, direct_passthrough=True
        )
    return Response(
        json.dumps(answer.payload, ensure_ascii=False),
        status=answer.status,
        headers=headers,
        content_type=JSON_TYPE,
    )
