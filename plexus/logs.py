"""Structured logging for the CLI and every service process.

One JSON object a line (or readable text on a terminal), and a filter that takes email
addresses and phone numbers out of every record before any handler writes it: logs are
shipped and kept where personal data must not be.

`configure(level, fmt)` sets up a process; `logging_config(level, fmt)` is the same set-up
as a dictConfig dict, which is what config.yaml's LOGGING section holds so that
`nameko run --config config.yaml` applies it too.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import sys
from datetime import UTC, datetime

from plexus import tracing

FORMATS = ("json", "text", "auto")

EMAIL_MASK = "<email>"
PHONE_MASK = "<phone>"

# Local parts leave out "=", "/", quotes and brackets, so `email=bob@example.com` keeps its
# `email=`; the domain ends in a label that starts with a letter, so `guest@127.0.0.1` in a
# broker URI is not taken for an address.
# "%40" and "%2B" are "@" and "+" in a URL's query, as in the gateway's access log lines.
# An address is found from its "@" (_redact_emails), each part with a bounded quantifier
# (RFC 5321: a local part is at most 64 characters, a label 63): the access log line of an
# 8 KB path costs one scan, not a pattern tried from each of its characters (0.34 s).
_LOCAL_PART = re.compile(r"[\w.!#$%&*+^~-]{1,64}")
_AT = re.compile(r"@|%40", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[\w-]{1,63}\.){1,8}[^\W\d_][\w-]{0,62}")
# A "+" and 7 to 15 digits, each allowed one or two separators before it:
# "+380501234567", "+380 50 123 45 67", "+1 (555) 123-4567".
_E164 = re.compile(r"(?:\+|%2B)\d(?:[ ().-]{0,2}\d){6,14}(?!\d)", re.IGNORECASE)
# Nine or more digits on their own: a national number ("0501234567") or an E.164 number
# without its "+". Digits inside words (ULIDs, hashes) or after a "." (decimals) stay.
_DIGIT_RUN = re.compile(r"(?<![\w.])\d{9,}(?!\w)")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {
    "message",
    "asctime",
    "taskName",
}


# Longer texts keep their head and tail (the request line, a traceback's exception) and lose
# the middle: redaction runs on every line written, and a client chooses how long a path is.
MAX_REDACTED_CHARS = 32768


def redact(text: str) -> str:
    """The text with email addresses and phone numbers replaced by placeholders, cut to
    MAX_REDACTED_CHARS. Linear in the length of the text."""
    if len(text) > MAX_REDACTED_CHARS:
        half = MAX_REDACTED_CHARS // 2
        cut = len(text) - 2 * half
        text = f"{text[:half]}...[{cut} characters cut]...{text[-half:]}"
    text = _redact_emails(text)
    text = _E164.sub(PHONE_MASK, text)
    return _DIGIT_RUN.sub(PHONE_MASK, text)


def _redact_emails(text: str) -> str:
    """From each "@" (or "%40"): the local part before it, read backwards on the reversed
    text, and the domain after it; two anchored matches of bounded length an "@"."""
    parts, done, backwards = [], 0, None
    for at in _AT.finditer(text):
        if at.start() < done:  # inside the address just replaced
            continue
        domain = _DOMAIN.match(text, at.end())
        if domain is None:
            continue
        backwards = backwards or text[::-1]
        local = _LOCAL_PART.match(backwards, len(text) - at.start())
        if local is None:
            continue
        start = max(done, at.start() - len(local.group()))
        if start == at.start():
            continue
        parts += [text[done:start], EMAIL_MASK]
        done = domain.end()
    return "".join(parts) + text[done:] if parts else text


class TraceFilter(logging.Filter):
    """Puts the current request id and trace id (plexus.tracing) on every record written
    while a request or a message that carried them is being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace = tracing.current()
        if trace is not None:
            record.request_id, record.trace_id = trace.request_id, trace.trace_id
        return True


class RedactFilter(logging.Filter):
    """Redacts the final message (msg % args), the traceback text and string `extra=`
    values of every record. Attach it to handlers, not loggers: a logger's filters do
    not see records that propagate up from its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep its args, redacted, out of the error path
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback (an IntegrityError
            # quotes the duplicate email) is written only in its redacted form.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


def _extras(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


def service_name() -> str | None:
    """The service this process runs: PLEXUS_SERVICE (set by `plexus run` and the
    compose file), else the one `services.<name>...` path on the command line
    (`nameko run ... services.contacts.entrypoints:ContactsService`)."""
    if os.environ.get("PLEXUS_SERVICE"):
        return os.environ["PLEXUS_SERVICE"]
    names = {
        arg.split(".")[1]
        for arg in sys.argv[1:]
        if arg.startswith("services.") and arg.count(".") >= 2
    }
    return names.pop() if len(names) == 1 else None


def rfc3339(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, service (when known),
    exc_info (the traceback text), stack_info, and any `extra=` fields."""

    def __init__(self, service: str | None = None):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": rfc3339(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        entry.update(_extras(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For people at a terminal: `2026-11-23T13:05:10.123Z INFO  contacts plexus.db: ...`."""

    def __init__(self, service: str | None = None):
        prefix = f"{service} " if service else ""
        super().__init__(f"%(ts)s %(levelname)-5s {prefix}%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # The format's %(ts)s: set for this formatting only.
        record.__dict__["ts"] = rfc3339(record.created)
        try:
            return super().format(record)
        finally:
            del record.__dict__["ts"]


def make_formatter(fmt: str = "auto", service: str | None = None) -> logging.Formatter:
    """dictConfig factory (`"()": plexus.logs.make_formatter`)."""
    fmt = (fmt or "auto").lower()
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    service = service or service_name()
    return JsonFormatter(service) if fmt == "json" else TextFormatter(service)


def logging_config(level: str | int = "INFO", fmt: str = "auto") -> dict:
    """The dictConfig for a Plexus process: everything to stderr through the redaction
    filter. config.yaml's LOGGING section is this dict with ${...} for level and fmt."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "trace": {"()": "plexus.logs.TraceFilter"},
            "redact": {"()": "plexus.logs.RedactFilter"},
        },
        "formatters": {"plexus": {"()": "plexus.logs.make_formatter", "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plexus",
                "filters": ["trace", "redact"],
            },
        },
        # alembic names each of its plugins at INFO on every migrate.
        "loggers": {"alembic.runtime.plugins": {"level": "WARNING"}},
        "root": {"level": level, "handlers": ["stderr"]},
    }


def configure(level: str | int = "INFO", fmt: str = "auto") -> None:
    """Set up logging for this process. `level` is a name in any case or a number."""
    if isinstance(level, str):
        level = level.upper()
    logging.config.dictConfig(logging_config(level, fmt))
    # Warnings raised after start-up are log records too, so they come out as JSON.
    logging.captureWarnings(True)
