"""Spans reach an OpenTelemetry collector: a suite run with TRACING.otlp_endpoint sends
its spans over OTLP/HTTP to a local collector (the protocol's protobuf, decoded here), and
one request's spans form one tree: the caller's span, the gateway's, the contacts RPC's,
and the activity batch that took the contact's event."""

from __future__ import annotations

import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e.conftest import free_port, start_suite, stop_suite, suite_env
from tests.e2e.test_contacts_api import unique_email

pytestmark = pytest.mark.e2e


class Collector(BaseHTTPRequestHandler):
    spans: list[dict] = []

    def do_POST(self):  # noqa: N802 http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource.resource.attributes
                if a.key == "service.name"
            )
            for scope in resource.scope_spans:
                for span in scope.spans:
                    Collector.spans.append(
                        {
                            "service": service,
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex(),
                        }
                    )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    server.shutdown()


@pytest.fixture(scope="module")
def traced_suite(amqp_uri, tmp_path_factory, collector):
    data_dir = tmp_path_factory.mktemp("traced")
    env = suite_env(amqp_uri, data_dir, None)
    env.update({"PLEXUS_OTLP_ENDPOINT": collector, "OTEL_BSP_SCHEDULE_DELAY": "200"})
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


def test_one_request_is_one_tree_of_spans_across_services(traced_suite):
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    answer = traced_suite.http().post(
        f"{traced_suite.url}/v1/contacts",
        json={"email": unique_email("span")},
        headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
    )
    assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 20
    while True:
        mine = {s["service"]: s for s in Collector.spans if s["trace_id"] == trace_id}
        if {"plexus-gateway", "plexus-contacts", "plexus-activity"} <= set(mine):
            break
        assert time.monotonic() < deadline, f"spans so far: {mine}"
        time.sleep(0.2)
    gateway, contacts, activity = (
        mine["plexus-gateway"],
        mine["plexus-contacts"],
        mine["plexus-activity"],
    )
    assert (gateway["name"], gateway["parent"]) == ("POST /v1/contacts", caller_span)
    assert (contacts["name"], contacts["parent"]) == ("contacts.create_contact", gateway["span_id"])
    assert activity["parent"] == contacts["span_id"]
