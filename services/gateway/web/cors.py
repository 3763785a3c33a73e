"""CORS for the routes a browser calls from the web pages of other sites (the
subscription form): an origin in FORMS.allowed_origins is answered with
Access-Control-Allow-Origin (and, to a preflight OPTIONS, the method and header it may
use); any other origin gets no CORS header, so its browser keeps the answer from the
page. `*` in the list allows every origin."""

from __future__ import annotations

import functools

PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


@functools.lru_cache(maxsize=8)
def allowed_origins(configured: str) -> frozenset[str]:
    """`scheme://host[:port]` origins from their comma-separated list."""
    return frozenset(
        origin.strip().rstrip("/").lower() for origin in configured.split(",") if origin.strip()
    )


def cors_headers(method: str, origin: str | None, configured: str) -> dict:
    """The headers answering a request from `origin` (its Origin header)."""
    headers = {"Vary": "Origin"}  # the answer differs by origin: caches must know
    allowed = allowed_origins(configured or "")
    if not origin or (origin.lower() not in allowed and "*" not in allowed):
        return headers
    headers["Access-Control-Allow-Origin"] = origin
    if method == "OPTIONS":
        headers.update(PREFLIGHT)
    return headers
