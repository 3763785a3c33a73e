"""The route table's building blocks: a Route says who may call what, what it takes,
and which plain function answers; the Router matches a request to one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from services.gateway.web.problems import method_not_allowed, not_found


@dataclass(frozen=True)
class Answer:
    status: int = 200
    payload: object = None
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # werkzeug syntax: /v1/contacts/<contact_id>
    handler: Callable  # handler(call: Call) -> Answer | JSON-able payload
    summary: str
    scope: str | None = None  # None: no API key needed
    tag: str = "system"
    body: type | None = None  # marshmallow schema of the JSON body (OpenAPI, parsing)
    body_optional: bool = False
    response: type | None = None  # marshmallow schema of the answer (OpenAPI)
    many: bool = False  # the answer is a page {"data": [...], "next_cursor"}
    status: int = 200
    query: dict = field(default_factory=dict)  # name -> description
    body_limit: str = "max_body_bytes"  # GATEWAY config key bounding the body
    rate_limit: str = "default"  # which GATEWAY.rate_limits bucket it draws
    # Routes without a key: which GATEWAY.client_rate_limits bucket each client address
    # draws from (None: no limit).
    client_limit: str | None = None
    # Browsers may call it from the web pages of FORMS.allowed_origins (web/cors.py).
    cors: bool = False
    # Answers a page (text/html) to a person, its 404 and 410 too.
    html: bool = False
    extra_errors: tuple[str, ...] = ()  # problem statuses besides those openapi.py infers
    erases: str | None = None  # path parameter naming a resource this route erases
    # Hand the handler the body unparsed (Call.raw_body), whatever its type (JSON, a
    # form): for webhooks that sign the bytes as sent.
    raw_body: bool = False
    # False: not part of the API (the web page's files): left out of /openapi.json and
    # /docs, so neither the contract nor the fuzzer sees it.
    api: bool = True

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.path)


class Router:
    def __init__(self, routes):
        self.routes = list(routes)
        # No redirects: werkzeug would answer `/v1//contacts` by raising RequestRedirect
        # (to /v1/contacts), which is not an answer an API gives; it is not a route.
        self.map = Map(
            [Rule(r.path, methods=[r.method], endpoint=i) for i, r in enumerate(self.routes)],
            strict_slashes=False,
            merge_slashes=False,
            redirect_defaults=False,
        )

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        adapter = self.map.bind("plexus")
        try:
            index, params = adapter.match(path, method=method)
        except MethodNotAllowed as error:
            raise method_not_allowed(method, error.valid_methods or ()) from None
        except (NotFound, RequestRedirect):
            raise not_found(path) from None
        return self.routes[index], params
