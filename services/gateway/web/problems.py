"""Errors as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import json
import math

from werkzeug.wrappers import Response

from plexus import tracing
from plexus.errors import PlexusError

PROBLEM_TYPE = "https://plexus.dev/problems/"


class HttpProblem(PlexusError):
    """A problem found at the HTTP layer itself (auth, body, routing)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail, errors)
        self.status = status
        self.title = title
        self.headers = headers or {}


def slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def problem_body(error: PlexusError) -> dict:
    trace = tracing.current()
    return {
        "type": PROBLEM_TYPE + slug(error.title),
        "title": error.title,
        "status": error.status,
        "detail": error.detail or error.title,
        "errors": error.errors,
        # The request id (X-Request-Id): what to quote when asking about this answer.
        **({"instance": trace.request_id} if trace else {}),
    }


def problem_response(error: PlexusError) -> Response:
    headers = getattr(error, "headers", {})
    return Response(
        json.dumps(problem_body(error)),
        status=error.status,
        headers=headers,
        content_type="application/problem+json",
    )


def unauthorized(detail: str) -> HttpProblem:
    return HttpProblem(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="plexus"'}
    )


def forbidden(scope: str) -> HttpProblem:
    return HttpProblem(403, "Forbidden", f"this API key lacks the scope {scope!r}")


def not_found(path: str) -> HttpProblem:
    return HttpProblem(404, "Not found", f"no route {path}")


def method_not_allowed(method: str, allowed) -> HttpProblem:
    return HttpProblem(
        405,
        "Method not allowed",
        f"{method} is not allowed here",
        headers={"Allow": ", ".join(sorted(allowed))},
    )


def malformed(detail: str) -> HttpProblem:
    return HttpProblem(400, "Malformed request", detail)


def too_large(limit: int) -> HttpProblem:
    return HttpProblem(413, "Payload too large", f"the body is larger than {limit} bytes")


def rate_limited(
    retry_after: float, bucket: str, headers: dict | None = None, who: str = "this API key"
) -> HttpProblem:
    seconds = max(1, math.ceil(retry_after))
    return HttpProblem(
        429,
        "Too many requests",
        f"{who} is over its {bucket} rate limit; retry in {seconds} s",
        headers={**(headers or {}), "Retry-After": str(seconds)},
    )
