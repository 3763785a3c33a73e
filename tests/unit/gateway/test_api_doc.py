"""docs/api.md, the API as people read it, names exactly the routes /openapi.json names,
each with the scope the gateway asks for it."""

import re

from plexus.config import PROJECT_ROOT
from services.gateway.openapi import ROUTES, spec

ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \| ([^|]+) \|", re.M)


def documented() -> dict[tuple[str, str], str]:
    text = (PROJECT_ROOT / "docs" / "api.md").read_text()
    return {(method, path): scope.strip() for method, path, scope in ROW.findall(text)}


def test_the_document_names_every_route_of_the_openapi_and_no_other():
    served = {
        (method.upper(), path)
        for path, operations in spec()["paths"].items()
        for method in operations
    }
    assert set(documented()) == served


def test_each_route_is_documented_with_its_scope():
    scopes = documented()
    wrong = {
        (r.method, r.openapi_path): (scopes[(r.method, r.openapi_path)], r.scope)
        for r in ROUTES
        if r.scope and scopes[(r.method, r.openapi_path)] != r.scope
    }
    assert wrong == {}
