"""The console's client of the gateway's HTTP API, called as any external system calls
it (`plexus import`, `plexus export`): a key, one HTTP session per thread (safe to share
between threads), retries while the gateway is away or asks to wait (429, 502, 503,
504, honouring Retry-After), and errors that say what the gateway answered."""

from __future__ import annotations

import threading
import time

import requests

RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class GatewayError(Exception):
    """The gateway refused the call, or never answered."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the gateway's HTTP status, when it answered


def problem(answer: requests.Response) -> str:
    """The gateway's problem (RFC 9457) in one line."""
    try:
        detail = answer.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if answer.status_code in (401, 403):
        return f"the gateway refused the key: {detail or answer.status_code}"
    return f"the gateway answered {answer.status_code}: {detail or answer.text[:300]}"


class GatewayClient:
    def __init__(self, url: str, key: str, timeout: float = 60.0, attempts: int = 5):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.attempts = attempts
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.key}"
        return session

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """The gateway's answer (2xx or 3xx); GatewayError for any other."""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self.session.request(
                    method, self.url + path, timeout=self.timeout, **kwargs
                )
            except requests.ConnectionError:
                if attempt == self.attempts:
                    raise GatewayError(f"no gateway answers at {self.url}") from None
                time.sleep(min(2**attempt, 10))
                continue
            if answer.status_code in RETRIED_STATUSES and attempt < self.attempts:
                time.sleep(float(answer.headers.get("Retry-After") or min(2**attempt, 10)))
                continue
            if answer.status_code >= 400:
                raise GatewayError(problem(answer), answer.status_code)
            return answer
        raise GatewayError(f"{method} {path} kept failing")

    def json(self, method: str, path: str, **kwargs) -> dict:
        return self.request(method, path, **kwargs).json()
