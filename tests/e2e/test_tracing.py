"""One request, followed: its X-Request-Id comes back on the answer and in a problem's
`instance`, travels by RPC into the service that does the work (whose log lines name it)
and out with the events that work records (W3C traceparent, same trace id)."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
import uuid

import kombu
import pytest

from tests.e2e.test_contacts_api import unique_email

pytestmark = pytest.mark.e2e


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def test_the_request_id_is_answered_back_and_quoted_by_problems(suite):
    http = suite.http()
    mine = f"req-{uuid.uuid4().hex}"
    answer = http.post(
        f"{suite.url}/v1/contacts", json={"email": "nope"}, headers={"X-Request-Id": mine}
    )
    assert answer.status_code == 422
    assert answer.headers["X-Request-Id"] == mine
    assert answer.json()["instance"] == mine
    made = http.get(f"{suite.url}/health")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])
    # Something that cannot be a request id (spaces, 300 characters) is replaced.
    other = http.get(f"{suite.url}/health", headers={"X-Request-Id": "a b" * 100})
    assert re.fullmatch(r"[0-9a-f]{32}", other.headers["X-Request-Id"])


def test_the_trace_reaches_the_service_that_does_the_work(suite):
    http = suite.http()
    mine = f"req-{uuid.uuid4().hex}"
    made = http.post(
        f"{suite.url}/v1/segments",
        json={"name": f"traced-{mine[-6:]}", "rule": {"subscribed": "email"}},
    )
    assert made.status_code == 201, made.text
    gone = http.delete(
        f"{suite.url}/v1/segments/{made.json()['id']}", headers={"X-Request-Id": mine}
    )
    assert gone.status_code == 204
    # The segments service's audit line for the deletion, written under the request.
    deadline = time.monotonic() + 10
    while True:
        lines = [
            json.loads(line)
            for line in suite.log.read_text(errors="replace").splitlines()
            if mine in line and line.startswith("{")
        ]
        audit = [line for line in lines if line.get("audit") == "deleted"]
        if audit or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(line["service"], line["kind"], line["request_id"]) for line in audit] == [
        ("segments", "segment", mine)
    ]


def test_events_carry_the_trace_on(suite):
    trace_id, parent = traceparent()
    mine = f"req-{uuid.uuid4().hex}"
    with kombu.Connection(suite.env["PLEXUS_AMQP_URI"]) as connection:
        queue = kombu.Queue(
            f"test-tracing-{uuid.uuid4().hex[:8]}",
            kombu.Exchange("contacts.events", type="topic", durable=True),
            routing_key="contact_created",
            exclusive=True,
        )
        seen: list = []
        with connection.Consumer(queue, callbacks=[lambda body, m: seen.append((body, m))]):
            answer = suite.http().post(
                f"{suite.url}/v1/contacts",
                json={"email": unique_email("traced")},
                headers={"X-Request-Id": mine, "traceparent": parent},
            )
            assert answer.status_code == 201, answer.text
            deadline = time.monotonic() + 15
            while not any(body.get("contact_id") == answer.json()["id"] for body, _ in seen):
                assert time.monotonic() < deadline, "no contact_created arrived"
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=1)
    body, message = next((b, m) for b, m in seen if b.get("contact_id") == answer.json()["id"])
    assert body["request_id"] == mine and message.headers["nameko.request_id"] == mine
    version, trace, span, _flags = message.headers["nameko.traceparent"].split("-")
    # The same trace, one hop further: the contacts service's own span.
    assert (version, trace) == ("00", trace_id) and span != parent.split("-")[2]
