"""A client that keeps writing through the gateway while a test breaks something:
creates contacts and changes their first name, one request after another, and keeps
every answer (status, time) to be checked against what got stored."""

from __future__ import annotations

import random
import secrets
import threading
import time
from dataclasses import dataclass

import requests

ACCEPTED = (200, 201)


@dataclass
class Write:
    kind: str  # "create" or "update"
    contact_id: str | None  # None: a create that was not accepted
    value: str  # the first_name it sets
    status: int  # 0: no answer at all (refused or timed out)
    started: float  # time.monotonic()
    seconds: float


class WriteLoad:
    def __init__(self, http: requests.Session, base_url: str, timeout: float = 15):
        self.http, self.url, self.timeout = http, base_url + "/v1/contacts", timeout
        self.writes: list[Write] = []
        self.running = False
        self.tag = secrets.token_hex(3)
        self.thread: threading.Thread | None = None

    def start(self) -> WriteLoad:
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        n = 0
        while self.running:
            n += 1
            created = [w.contact_id for w in self.accepted() if w.kind == "create"]
            value = f"v{n}"
            started = time.monotonic()
            if n % 3 == 1 or not created:
                kind, contact_id, method, url = "create", None, "POST", self.url
                body = {"email": f"load-{self.tag}-{n}@example.com", "first_name": value}
            else:
                kind, contact_id = "update", random.choice(created)
                method, url, body = "PATCH", f"{self.url}/{contact_id}", {"first_name": value}
            try:
                answer = self.http.request(method, url, json=body, timeout=self.timeout)
                status = answer.status_code
                if kind == "create" and status == 201:
                    contact_id = answer.json()["id"]
            except requests.RequestException:
                status = 0
            self.writes.append(
                Write(kind, contact_id, value, status, started, time.monotonic() - started)
            )

    def accepted(self, since: float = 0.0) -> list[Write]:
        return [w for w in self.writes if w.status in ACCEPTED and w.started >= since]

    def refused(self, since: float = 0.0) -> list[Write]:
        return [w for w in self.writes if w.status == 503 and w.started >= since]

    def between(self, start: float, end: float) -> list[Write]:
        return [w for w in self.writes if start <= w.started < end]
