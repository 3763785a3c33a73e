"""plexus.logs: redaction of emails and phone numbers, and the JSON/text line formats."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest

from plexus import logs
from plexus.config import load_config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bob@example.com", "<email>"),
        ("to Bob.Smith+news@mail.example.co.uk now", "to <email> now"),
        ("email=olena@приклад.укр", "email=<email>"),
        ("'bob@example.com'", "'<email>'"),
        ("+380501234567", "<phone>"),
        ("call +380 50 123 45 67 today", "call <phone> today"),
        ("+1 (555) 123-4567", "<phone>"),
        ("phone=0501234567", "phone=<phone>"),
        ("380501234567,", "<phone>,"),
        (
            '"GET /v1/contacts?email=olena%40example.com HTTP/1.1"',
            '"GET /v1/contacts?email=<email> HTTP/1.1"',
        ),
        ("?phone=%2B380501234567&region=UA", "?phone=<phone>&region=UA"),
    ],
)
def test_redact_hides_emails_and_phones(text, expected):
    assert logs.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T13:05:10.123Z",
        "+02:00",
        "listening on 127.0.0.1:8000",
        "pyamqp://guest:**@127.0.0.1:5672//",
        "amqp://guest:guest@127.0.0.1:5672/",
        "contact 01JDQ8Y6ZK4M7V2N1X0W9T8S7R",
        "took 0.1234567891 s",
        "1048576 bytes, 20 workers, HTTP 422",
    ],
)
def test_redact_leaves_other_text_alone(text):
    assert logs.redact(text) == text


# What a client can make the gateway log: the access line of an 8 KB path (eventlet's
# longest request line). Each took 0.3 to 0.9 s of CPU with the email pattern tried from
# every character; linear, each is well under a millisecond.
HOSTILE_LINES = {
    "dotted words": "a." * 4096,
    "one word": "a" * 8192,
    "hyphens": "a-" * 4096,
    "plus and digits": "+1" * 4096,
    "percent-encoded at": "a%40" * 2048,
    "at signs": "a@" * 4096,
    "addresses back to back": "a@a." * 2048,
}


@pytest.mark.parametrize("name", HOSTILE_LINES)
def test_redact_is_linear_on_an_8_kb_request_line(name):
    line = f'127.0.0.1 - - "GET /{HOSTILE_LINES[name]} HTTP/1.1" 404 0 0.001'
    started = time.process_time()
    for _ in range(10):
        logs.redact(line)
    assert (time.process_time() - started) / 10 < 0.02


def test_redact_keeps_head_and_tail_of_a_huge_text_and_redacts_both():
    text = "from bob@example.com " + "x" * 1_000_000 + " to +380501234567"
    started = time.process_time()
    redacted = logs.redact(text)
    assert time.process_time() - started < 0.05
    assert len(redacted) < logs.MAX_REDACTED_CHARS + 100
    assert redacted.startswith("from <email> xxx")
    assert redacted.endswith("xxx to <phone>")
    assert "characters cut]" in redacted


def _emit(formatter, message, *args, exc=None, level=logging.INFO, **extra):
    """Pass one record through the redaction filter and `formatter`; the line written.
    The record goes straight to the handler: no logger, so pytest's capture is not in
    the way."""
    exc_info = None
    if exc is not None:
        try:
            raise exc
        except Exception:
            exc_info = sys.exc_info()
    record = logging.getLogger("plexus.test_logs").makeRecord(
        "plexus.test_logs", level, __file__, 1, message, args, exc_info, extra=extra
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactFilter())
    handler.setFormatter(formatter)
    handler.handle(record)
    return stream.getvalue()


def test_json_line_has_the_fields_and_no_personal_data():
    line = _emit(
        logs.JsonFormatter(service="contacts"),
        "created %s for %s",
        "a contact",
        "olena@example.com",
        request_id="r-1",
        note="call +380501234567",
    )
    assert line.endswith("\n") and line.count("\n") == 1
    entry = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert entry["level"] == "info"
    assert entry["logger"] == "plexus.test_logs"
    assert entry["message"] == "created a contact for <email>"
    assert entry["service"] == "contacts"
    assert entry["request_id"] == "r-1"
    assert entry["note"] == "call <phone>"
    assert "example.com" not in line and "380501234567" not in line


def test_json_carries_the_traceback_redacted():
    error = ValueError("duplicate key: Key (email)=(olena@example.com) already exists")
    entry = json.loads(_emit(logs.JsonFormatter(), "insert failed", exc=error, level=logging.ERROR))
    assert entry["level"] == "error"
    assert "Traceback" in entry["exc_info"]
    assert "Key (email)=(<email>)" in entry["exc_info"]
    assert "olena@example.com" not in json.dumps(entry)
    assert "service" not in entry  # not known here: left out rather than null


def test_a_broken_format_string_does_not_leak_its_arguments():
    line = _emit(logs.JsonFormatter(), "%d contacts", "olena@example.com")
    assert "olena@example.com" not in line
    assert "<email>" in json.loads(line)["message"]


def test_text_format_is_one_readable_line():
    line = _emit(logs.TextFormatter(service="gateway"), "key for %s", "bob@example.com")
    assert re.fullmatch(r"\S+Z INFO  gateway plexus\.test_logs: key for <email>\n", line), line


def test_auto_is_json_off_a_terminal_and_text_on_one(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(logs.make_formatter("auto"), logs.JsonFormatter)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert isinstance(logs.make_formatter("auto"), logs.TextFormatter)
    assert isinstance(logs.make_formatter("JSON"), logs.JsonFormatter)
    with pytest.raises(ValueError, match="json, text, auto"):
        logs.make_formatter("xml")


def test_service_name_comes_from_the_environment_or_the_nameko_command(monkeypatch):
    monkeypatch.setenv("PLEXUS_SERVICE", "gateway")
    assert logs.service_name() == "gateway"
    monkeypatch.delenv("PLEXUS_SERVICE")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "nameko",
            "run",
            "--config",
            "/app/config.yaml",
            "services.contacts.entrypoints:ContactsService",
        ],
    )
    assert logs.service_name() == "contacts"
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert logs.service_name() is None


def test_config_yaml_logging_is_the_builder_with_env_overrides(monkeypatch):
    monkeypatch.delenv("PLEXUS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("PLEXUS_LOG_FORMAT", raising=False)
    assert load_config()["LOGGING"] == logs.logging_config("INFO", "auto")
    monkeypatch.setenv("PLEXUS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("PLEXUS_LOG_FORMAT", "text")
    assert load_config()["LOGGING"] == logs.logging_config("DEBUG", "text")


def test_config_yaml_logging_applied_as_nameko_run_does():
    """What `nameko run --config config.yaml` does with the LOGGING key, in a child
    process (dictConfig would replace this test process's logging)."""
    script = (
        "import logging, logging.config\n"
        "from plexus.config import load_config\n"
        "logging.config.dictConfig(load_config()['LOGGING'])\n"
        "log = logging.getLogger('services.contacts')\n"
        "log.debug('hidden at INFO')\n"
        "log.info('created %s', 'olena@example.com')\n"
        "try:\n"
        "    raise RuntimeError('phone +380501234567 taken')\n"
        "except RuntimeError:\n"
        "    log.exception('failed')\n"
    )
    env = {
        **os.environ,
        "PLEXUS_LOG_FORMAT": "auto",
        "PLEXUS_LOG_LEVEL": "INFO",
        "PLEXUS_SERVICE": "contacts",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert [e["message"] for e in entries] == ["created <email>", "failed"]
    assert {e["service"] for e in entries} == {"contacts"}
    assert "RuntimeError: phone <phone> taken" in entries[1]["exc_info"]
    assert "example.com" not in done.stderr and "380501234567" not in done.stderr
