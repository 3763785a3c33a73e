"""OpenAPI 3.1 of every route, made from the route table and the same marshmallow
schemas that validate the requests (plexus.contract)."""

from __future__ import annotations

import functools
import html

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from plexus.contract.fields import Text
from services.gateway.routes import ROUTES as SERVED
from services.gateway.routes.call import Call
from services.gateway.schemas import Problem
from services.gateway.web.routing import Answer, Route


def _openapi(_c: Call):
    return spec()


def _docs(_c: Call):
    return Answer(200, docs_page(), {"Content-Type": "text/html; charset=utf-8"})


# The description of the API is served beside it (services.gateway.app adds these to the
# routing table); it describes itself too.
OPENAPI_ROUTES = (
    Route("GET", "/openapi.json", _openapi, "This API as OpenAPI 3.1"),
    Route("GET", "/docs", _docs, "This API, readable"),
)
# The web page and its files (api=False) are served but are no part of the API.
ROUTES = tuple(route for route in (*SERVED, *OPENAPI_ROUTES) if route.api)
ERRORS = {
    "400": "Malformed body",
    "401": "No valid API key",
    "403": "The key lacks the scope",
    "404": "Unknown resource",
    "409": "Conflict",
    "413": "Body too large",
    "410": "Gone: the link has expired",
    "422": "Validation failed",
    "429": "Rate limited (see Retry-After)",
    "503": "A backing service did not answer in time",
}


# On every answer to a request whose key was admitted (not on 401 and 403), when the
# route's class of rate limit is on (services.gateway.logic.admission).
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "requests the key may make at once (its burst, refilled at its rate)",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "X-RateLimit-Remaining": {
        "description": "how many of them it may still make now",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}


def _error_codes(route: Route) -> set[str]:
    """The problem statuses a route can answer, from what it takes and who may call it."""
    if route.tag == "system":
        return set()
    codes = {"503"}  # every other route asks a backing service
    if route.scope:
        codes |= {"401", "403", "404", "409", "422", "429"}  # 404: a body may name one
    else:  # signed links and provider webhooks check their own token or signature
        codes |= {"403", "404", "422"}
    if route.path_params:
        codes.add("404")
    if route.body or route.raw_body:
        codes |= {"400", "413", "422"}
    if route.client_limit:
        codes.add("429")  # per client address (services.gateway.logic.client_limits)
    return codes | set(route.extra_errors)


# A made resource's id leads to the routes under the path that made it (POST /v1/contacts
# -> /v1/contacts/{contact_id}/...), and to these: OpenAPI links, which a client (and the
# fuzzer's stateful phase) follows from one answer to the next request.
ALSO_LINKED = {"/v1/events": ("/v1/activity/<item_id>",), "/v1/orders": ("/v1/activity/<item_id>",)}


def _links(route: Route) -> dict:
    """{name: link} from a route's answer (201/202 with a body) to the routes that take
    what it made: its id from the answer, the path parameters before it as requested."""
    if route.method != "POST" or route.status not in (201, 202) or route.response is None:
        return {}
    fields = route.response._declared_fields
    links = {}
    for target in ROUTES:
        if target is route or not target.path_params:
            continue
        elsewhere = target.path in ALSO_LINKED.get(route.path, ())
        if not (elsewhere or target.path.startswith(route.path + "/<")):
            continue
        made = next(name for name in target.path_params if name not in route.path_params)
        field = made if made in fields else "id"
        if field not in fields:
            continue
        # The parameters past the made one (a list name, a channel) are left to choose.
        parameters = {
            name: f"$request.path.{name}"
            for name in target.path_params
            if name in route.path_params
        }
        parameters[made] = f"$response.body#/{field}"
        operation_id = f"{target.method.lower()}_{target.handler.__name__}"
        links[operation_id] = {"operationId": operation_id, "parameters": parameters}
    return links


def _schema_name(schema) -> str:
    return schema.__name__


# What a route that answers people a page (html=True) answers as a page, errors too.
HTML_STATUSES = frozenset({"200", "404", "410"})
HTML = {"text/html": {"schema": {"type": "string"}}}


def _response(route: Route) -> dict:
    if route.status == 204:
        return {"description": "Done"}
    if route.html:
        return {"description": "OK", "content": HTML}
    if route.response is None:
        return {"description": "OK"}
    name = _schema_name(route.response)
    if route.many:
        content = {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "next_cursor": {"type": ["string", "null"]},
            },
        }
    else:
        content = {"$ref": f"#/components/schemas/{name}"}
    answer = {"description": "OK", "content": {"application/json": {"schema": content}}}
    if links := _links(route):
        answer["links"] = links
    return answer


def _operation(route: Route) -> dict:
    operation = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_params
        ]
        + [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in route.query.items()
        ],
        "responses": {str(route.status): _response(route)},
    }
    if route.scope:
        operation["security"] = [{"apiKey": []}]
        operation["description"] = f"Scope: `{route.scope}` (or `admin`)."
    for code in sorted(_error_codes(route)):
        operation["responses"][code] = {
            "description": ERRORS[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        if route.html and code in HTML_STATUSES:
            operation["responses"][code]["content"] = HTML
    if route.scope:
        for code, response in operation["responses"].items():
            if code not in ("401", "403"):
                response["headers"] = dict(RATE_LIMIT_HEADERS)
    if route.method == "POST" and route.scope:
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "the same key and body within 24 h return the first answer",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    if route.body:
        operation["requestBody"] = {
            "required": not route.body_optional,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{_schema_name(route.body)}"}
                }
            },
        }
    return operation


def _blank_clears(_converter, field, ret, **kwargs) -> dict:
    """A nullable text with a format (email, avatar_url) takes a blank string as null, as
    every nullable text does (plexus.contract.fields.Text): the schema says so, beside
    the format a non-blank value must have."""
    if isinstance(field, Text) and field.allow_none and "format" in ret and "type" in ret:
        text = {key: ret.pop(key) for key in ("format", "maxLength", "pattern") if key in ret}
        ret.pop("type")
        ret["anyOf"] = [
            {"type": "string", **text},
            {"type": "string", "pattern": r"^\s*$"},
            {"type": "null"},
        ]
    return {}


@functools.cache
def spec() -> dict:
    marshmallow = MarshmallowPlugin()
    document = APISpec(
        title="Plexus API",
        version="1",
        openapi_version="3.1.0",
        plugins=[marshmallow],
        info={"description": "Contact profiles, consent, activity and messaging."},
    )
    marshmallow.converter.add_attribute_function(_blank_clears)
    document.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    schemas = {Problem} | {s for r in ROUTES for s in (r.body, r.response) if s is not None}
    for schema in sorted(schemas, key=_schema_name):
        document.components.schema(_schema_name(schema), schema=schema)
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        document.path(path=path, operations=operations)
    return document.to_dict()


@functools.cache
def docs_page() -> str:
    """A plain HTML index of the API (works offline; the full detail is /openapi.json)."""
    rows = []
    for route in ROUTES:
        rows.append(
            f"<tr><td><code>{route.method}</code></td>"
            f"<td><code>{html.escape(route.openapi_path)}</code></td>"
            f"<td>{html.escape(route.scope or '')}</td><td>{html.escape(route.summary)}</td></tr>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Plexus API</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
        "padding:.35rem .6rem;text-align:left}code{font-size:.95em}</style></head><body>"
        "<h1>Plexus API v1</h1><p>Send <code>Authorization: Bearer &lt;key&gt;</code>. "
        "Errors are <code>application/problem+json</code>. Machine-readable: "
        "<a href='/openapi.json'>/openapi.json</a>.</p>"
        "<table><tr><th>method</th><th>path</th><th>scope</th><th>what</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
