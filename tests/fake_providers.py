"""Local stand-ins for the messaging providers, speaking their real protocols, run as a
process of their own (`python -m tests.fake_providers --dir D ...`) so that neither
asyncio nor the HTTP server shares the eventlet-patched test process.

- SMTP (aiosmtpd): every message is kept as <dir>/smtp/<n>.eml; `--smtp-latency`
  delays each DATA answer (the bench's slow provider). A recipient at
  bounce.example is refused with 550 (a hard bounce).
- HTTP, one server for three APIs; each request is appended to <dir>/http.jsonl:
  Twilio-style  POST /2010-04-01/Accounts/<sid>/Messages.json (form, basic auth)
  Telegram      POST /bot<token>/sendMessage (JSON)
  Viber         POST /pa/send_message (JSON, X-Viber-Auth-Token)
  A message whose text holds "[flaky]" is answered 503 twice, then accepted.
  Telegram chat 404 does not exist (400); Viber receiver "gone" is status 6.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FLAKY_FAILURES = 2


class Recorder:
    def __init__(self, directory: Path):
        self.directory = directory
        (directory / "smtp").mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.flaky: dict[str, int] = {}

    def http(self, entry: dict) -> None:
        with self.lock, open(self.directory / "http.jsonl", "a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def flaky_failure(self, text: str) -> bool:
        """True for the first FLAKY_FAILURES tries of a "[flaky]" text."""
        if "[flaky]" not in text:
            return False
        with self.lock:
            self.flaky[text] = self.flaky.get(text, 0) + 1
            return self.flaky[text] <= FLAKY_FAILURES


class SmtpHandler:
    def __init__(self, recorder: Recorder, latency: float):
        self.recorder, self.latency = recorder, latency

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address.endswith("@bounce.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.latency:
            await asyncio.sleep(self.latency)
        number = next(self.recorder.counter)
        path = self.recorder.directory / "smtp" / f"{number:06d}.eml"
        partial = path.with_suffix(".partial")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(path)
        return "250 Message accepted"


def make_http_handler(recorder: Recorder):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = "form-urlencoded" in (self.headers.get("Content-Type") or "")
            body = dict(urllib.parse.parse_qsl(raw)) if form else json.loads(raw or "{}")
            recorder.http({"path": self.path, "headers": dict(self.headers), "body": body,
                           "at": time.time()})
            if self.path.startswith("/2010-04-01/Accounts/"):
                return self._twilio(body)
            if self.path.endswith("/sendMessage"):
                return self._telegram(body)
            if self.path == "/pa/send_message":
                return self._viber(body)
            return self._answer(404, {"message": "no such API"})

        def _twilio(self, body):
            user = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
            if not user.partition(":")[2]:
                return self._answer(401, {"code": 20003, "message": "Authenticate"})
            if recorder.flaky_failure(body.get("Body", "")):
                return self._answer(503, {"message": "try later"})
            if not body.get("To", "").startswith("+"):
                return self._answer(400, {"code": 21211, "message": "invalid To number"})
            return self._answer(201, {"sid": f"SM{time.time_ns():x}", "status": "queued"})

        def _telegram(self, body):
            if recorder.flaky_failure(body.get("text", "")):
                return self._answer(502, {"ok": False, "description": "Bad Gateway"})
            if str(body.get("chat_id")) == "404":
                return self._answer(400, {"ok": False, "error_code": 400,
                                          "description": "Bad Request: chat not found"})
            return self._answer(200, {"ok": True, "result": {
                "message_id": time.time_ns() % 10**9, "chat": {"id": body["chat_id"]}}})

        def _viber(self, body):
            if recorder.flaky_failure(body.get("text", "")):
                return self._answer(503, {})
            if body.get("receiver") == "gone":
                return self._answer(200, {"status": 6, "status_message": "notSubscribed"})
            return self._answer(200, {"status": 0, "status_message": "ok",
                                      "message_token": time.time_ns()})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--smtp-latency", type=float, default=0.0)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    recorder = Recorder(args.dir)
    smtp = Controller(SmtpHandler(recorder, args.smtp_latency), hostname="127.0.0.1",
                      port=args.smtp_port)
    smtp.start()
    if args.http_port:
        server = ThreadingHTTPServer(("127.0.0.1", args.http_port), make_http_handler(recorder))
        threading.Thread(target=server.serve_forever, daemon=True).start()
    (args.dir / "ready").write_text("ok")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        smtp.stop()


if __name__ == "__main__":
    main()
