"""Every /v1 route enforces its scope: a key holding every scope but the route's one is
refused with 403 before anything else happens (the route table is walked, so a new
route is covered the day it is added)."""

import re
import uuid

import pytest
import requests

from services.gateway.logic.apikeys import SCOPES
from services.gateway.routes import ROUTES

PROTECTED = [route for route in ROUTES if route.scope]


@pytest.fixture(scope="module")
def keys_without(suite):
    """For each scope, a key holding all the others (admin excluded: it implies all)."""
    made = {}
    for scope in {route.scope for route in PROTECTED}:
        others = [s for s in SCOPES if s not in (scope, "admin")]
        args = ["apikey", "create", "--name", f"without-{scope}-{uuid.uuid4().hex[:6]}"]
        for other in others:
            args += ["--scope", other]
        done = suite.plexus(*args)
        assert done.returncode == 0, done.stderr
        made[scope] = done.stdout.strip().split()[-1]
    return made


def test_every_route_refuses_a_key_without_its_scope(suite, keys_without):
    refused = {}
    for route in PROTECTED:
        path = re.sub(r"<(?:\w+:)?(\w+)>", "x", route.path)
        answer = suite.http(keys_without[route.scope]).request(
            route.method, suite.url + path, json={}, timeout=15
        )
        refused[f"{route.method} {route.path}"] = answer.status_code
    assert refused == {name: 403 for name in refused}


def test_every_route_refuses_a_request_without_a_key(suite):
    for route in PROTECTED:
        path = re.sub(r"<(?:\w+:)?(\w+)>", "x", route.path)
        answer = requests.request(route.method, suite.url + path, json={}, timeout=15)
        assert answer.status_code == 401, f"{route.method} {route.path}"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
