"""The trace context: carried on when well-formed, started afresh when not, and put on
events and log lines only while one is current."""

from __future__ import annotations

import logging

from plexus import logs, tracing
from plexus.outbox import event_body

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def test_a_well_formed_trace_is_carried_on_as_a_new_span():
    trace = tracing.continued("req-1", PARENT)
    assert (trace.request_id, trace.trace_id) == ("req-1", TRACE)
    assert trace.span_id != "00f067aa0ba902b7" and len(trace.span_id) == 16
    assert trace.traceparent == f"00-{TRACE}-{trace.span_id}-01"


def test_what_is_malformed_or_missing_starts_afresh():
    for request_id, parent in [
        (None, None),
        ("has spaces", "00-xyz-00f067aa0ba902b7-01"),
        ("x" * 129, f"00-{'0' * 32}-00f067aa0ba902b7-01"),  # the all-zero trace is invalid
        ("", f"00-{TRACE}-{'0' * 16}-01"),
    ]:
        trace = tracing.continued(request_id, parent)
        assert trace.request_id != request_id and len(trace.request_id) == 32
        assert trace.trace_id != TRACE and len(trace.trace_id) == 32


def test_events_carry_the_current_trace_and_only_then():
    assert "request_id" not in event_body("contact_created", {"contact_id": "c"})
    trace = tracing.continued("req-2", PARENT)
    with tracing.using(trace):
        body = event_body("contact_created", {"contact_id": "c"})
        assert tracing.context_headers() == {
            "nameko.request_id": "req-2",
            "nameko.traceparent": trace.traceparent,
        }
    assert (body["request_id"], body["traceparent"]) == ("req-2", trace.traceparent)
    assert tracing.headers_of(body) == {
        "nameko.request_id": "req-2",
        "nameko.traceparent": trace.traceparent,
    }
    assert tracing.current() is None


def test_log_records_name_the_request_they_were_written_for():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with tracing.using(tracing.continued("req-3", PARENT)):
        logs.TraceFilter().filter(record)
    assert (record.request_id, record.trace_id) == ("req-3", TRACE)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    logs.TraceFilter().filter(outside)
    assert not hasattr(outside, "request_id")
