"""Reading what the client sent: the JSON body (bounded, strict) and query parameters."""

from __future__ import annotations

import json
import math
import re

from werkzeug.wrappers import Request

from plexus.errors import Invalid
from services.gateway.web.problems import malformed, too_large

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_body(request: Request, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    stream = request.stream
    if length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # werkzeug hands out an empty stream when there is no length; eventlet's
        # wsgi.input decodes the chunks itself. Read one byte past the limit to know.
        stream = request.environ["wsgi.input"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _check(value, path: tuple = (), level: int = 0) -> None:
    """Nested at most MAX_DEPTH levels, and every string (key or value) text: a lone
    surrogate (`"\\ud800"`) is valid JSON but not Unicode, and no database stores it."""
    if level > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            _text(key, (*path, key))
            _check(item, (*path, key), level + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, (*path, index), level + 1)
    else:
        _text(value, path)


def _text(value, path: tuple) -> None:
    if isinstance(value, str) and _SURROGATE.search(value):
        field = ".".join(str(part) for part in path) or "body"
        message = "holds a lone surrogate (a \\ud800-\\udfff escape), which is not text"
        raise Invalid(f"{field} {message}", {field: [message]})


def parse_json_object(data: bytes, required: bool = True) -> dict | None:
    """The body as a JSON object; anything else is a 400 that says what is wrong."""
    if not data.strip():
        if required:
            raise malformed("a JSON object body is required")
        return None
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_float=_finite, parse_constant=_reject_constant)
        _check(value)
    except UnicodeDecodeError:
        raise malformed("the body is not valid UTF-8") from None
    except RecursionError:
        raise malformed(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, huge ints, NaN/Infinity
        raise malformed(f"the body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise malformed("the body must be a JSON object")
    return value


def check_query(args) -> None:
    """No query parameter holds a NUL character: no value a route takes does, and on
    PostgreSQL one fails the statement it reaches (a 500, where it is the client's error)."""
    for name, value in args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "\\x00")
            message = "must not contain NUL characters"
            raise Invalid(f"{field} {message}", {field: [message]})


def query_int(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(
            f"{name} must be a whole number", {name: ["must be a whole number"]}
        ) from None
    if not low <= value <= high:
        raise Invalid(
            f"{name} must be between {low} and {high}",
            {name: [f"must be between {low} and {high}"]},
        )
    return value


# The paging query of every list route, as the OpenAPI describes it.
PAGE = {"limit": "page size, 1 to 200 (default 50)", "cursor": "next_cursor of the last page"}


def page_args(args) -> dict:
    """?limit= (1..200, default 50) and ?cursor= as the services take them."""
    return {"limit": query_int(args, "limit", 50, 1, 200), "cursor": args.get("cursor") or None}
