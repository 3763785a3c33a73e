"""One JSON, form or raw POST to a provider's HTTP API, with a timeout. The transport
failing (refused, reset, timed out) is a TemporaryFailure; any answer is returned for
the provider to judge. A redirect is an answer too, never followed: a provider's API
does not redirect a POST, and a web-push endpoint (a URL an API client gave) that
redirected would send the sender wherever it points."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

from services.messaging.senders.providers import PermanentFailure, TemporaryFailure


def post(
    url: str,
    *,
    form: dict | None = None,
    json_body: dict | None = None,
    headers: dict | None = None,
    basic_auth: tuple[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict]:
    """(HTTP status, the JSON answer or {} when it is not JSON)."""
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(json_body or {}).encode()
        headers["Content-Type"] = "application/json"
    if basic_auth:
        pair = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    status, _, raw = post_bytes(url, data, headers, timeout)
    return status, _json(raw)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, _req, _fp, _code, _msg, _headers, _newurl):
        return None  # urllib then raises the 3xx as an HTTPError: answered below


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_bytes(
    url: str, data: bytes, headers: dict, timeout: float = 10.0
) -> tuple[int, Message, bytes]:
    """(HTTP status, the answer's headers (any case), its body) of one POST of `data`."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers or Message(), error.read()
    except (urllib.error.URLError, OSError) as error:
        raise TemporaryFailure(
            f"{urllib.parse.urlsplit(url).netloc} unreachable: {type(error).__name__}"
        ) from None


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def judge(status: int, failed_status: str, reason: str) -> None:
    """The common reading of an HTTP answer: 429 and 5xx are worth another try, and so
    is 401 (our credentials: fix the config, then replay the dead letters); any other
    4xx, or a redirect (not followed), means this message will never go."""
    if status in (401, 429) or status >= 500:
        raise TemporaryFailure(f"HTTP {status}: {reason}")
    if status >= 300:
        raise PermanentFailure(failed_status, f"HTTP {status}: {reason}")
