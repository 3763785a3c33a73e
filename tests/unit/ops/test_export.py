"""`plexus export activity`, run as a process against a stand-in gateway that answers
the export route as the real one does (the real one: tests/browser)."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

KEY = "plx_test-key"
CONTACT = "01contact"
FEED = [{"id": f"item-{n}", "type": "custom_event", "details": {"n": n}} for n in range(3)]


class FakeGateway(BaseHTTPRequestHandler):
    broken = False  # the export stops halfway through, as when the gateway dies

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str, length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._problem(401, "the API key is not valid or was revoked")
        if url.path == "/v1/contacts":
            found = [{"id": CONTACT}] if query.get("email") == "olena@example.com" else []
            return self._send(200, json.dumps({"data": found}).encode(), "application/json")
        if url.path != f"/v1/contacts/{CONTACT}/activity/export":
            return self._problem(404, "no contact")
        body = (
            "".join(json.dumps(item) + "\n" for item in FEED).encode()
            if query["format"] == "ndjson"
            else b"id,type\r\nitem-0,custom_event\r\n"
        )
        if self.broken:
            return self._send(200, body[:20], "application/x-ndjson", length=len(body))
        return self._send(200, body, "application/x-ndjson")

    def _problem(self, status: int, detail: str):
        self._send(
            status,
            json.dumps({"status": status, "detail": detail}).encode(),
            "application/problem+json",
        )


@pytest.fixture
def gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeGateway.broken = False
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def export(gateway: str, *args: str, key: str = KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLEXUS_API_KEY": key, "PLEXUS_URL": gateway}
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", "export", "activity", *args],
        env=env,
        capture_output=True,
        timeout=60,
    )


def test_the_feed_goes_to_stdout_as_ndjson(gateway):
    done = export(gateway, CONTACT)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == FEED


def test_into_a_file_as_csv_with_the_contact_looked_up_by_email(gateway, tmp_path):
    target = tmp_path / "feed.csv"
    done = export(gateway, "email=olena@example.com", "--format", "csv", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == b"id,type\r\nitem-0,custom_event\r\n"
    assert b"bytes of activity written to" in done.stderr


@pytest.mark.parametrize(
    "contact, key, said",
    [
        ("nobody", KEY, "plexus: no contact nobody\n"),
        ("email=nobody@example.com", KEY, "plexus: no contact has email nobody@example.com\n"),
        (
            "name=Olena",
            KEY,
            "plexus: name a contact by its id or by user_id, email, phone=VALUE, not name=\n",
        ),
        (
            CONTACT,
            "plx_wrong",
            "plexus: the gateway refused the key: the API key is not valid or was revoked\n",
        ),
    ],
)
def test_failures_are_one_line_and_write_nothing(gateway, tmp_path, contact, key, said):
    target = tmp_path / "feed.ndjson"
    done = export(gateway, contact, "-o", str(target), key=key)
    assert (done.returncode, done.stderr.decode()) == (1, said)
    assert list(tmp_path.iterdir()) == []


def test_a_download_that_breaks_off_leaves_no_file(gateway, tmp_path):
    FakeGateway.broken = True
    target = tmp_path / "feed.ndjson"
    done = export(gateway, CONTACT, "-o", str(target))
    assert done.returncode == 1
    assert done.stderr.decode().startswith("plexus: the download broke off")
    assert list(tmp_path.iterdir()) == []
