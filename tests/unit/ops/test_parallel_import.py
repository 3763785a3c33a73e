"""`plexus import` with batches in flight side by side, against a real HTTP server that
answers the early batches last: rejects still come out in file order, progress adds up,
every good row is upserted, and a contact's later row still wins."""

import csv
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ops.gateway_client import GatewayClient
from ops.importer import import_contacts

ROWS = 1000
BATCH = 50


class Gateway:
    """POST /v1/contacts/batch as the real one answers it (created/updated/error per
    item), slower for earlier batches, counting how many are in flight at once."""

    def __init__(self):
        self.stored: dict[str, str] = {}  # email -> first_name
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = self.batches = 0

    def upsert(self, contacts: list[dict]) -> list[dict]:
        with self.lock:
            self.batches += 1
            number = self.batches
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.08 if number % 4 == 1 else 0.01)  # the first of each four: last back
        results = []
        with self.lock:
            self.in_flight -= 1
            for index, contact in enumerate(contacts):
                email = contact["email"]
                if "bad" in email:
                    results.append(
                        {
                            "index": index,
                            "status": "error",
                            "id": None,
                            "errors": {"email": ["not a valid email address"]},
                        }
                    )
                    continue
                status = "updated" if email in self.stored else "created"
                self.stored[email] = contact.get("first_name", "")
                results.append({"index": index, "status": status, "id": email, "errors": {}})
        return results


@pytest.fixture
def gateway():
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = json.dumps({"results": state.upsert(body["contacts"])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_parallel_batches_keep_rejects_in_file_order(gateway, tmp_path):
    state, url = gateway
    rows, bad_lines = [], []
    for i in range(ROWS):
        line = i + 2  # the header is line 1
        email, score = f"p{i}@example.com", "1"
        if i % 37 == 5:
            email = f"bad{i}"  # refused by the server
            bad_lines.append(line)
        elif i % 53 == 7:
            score = "lots"  # refused here, before sending
            bad_lines.append(line)
        elif i >= 100 and i % 10 == 0:
            email = f"p{i - 100}@example.com"  # the same contact as 100 rows (2 batches) up
        rows.append({"email": email, "first_name": f"row{line}", "contact_score": score})
    source = tmp_path / "people.csv"
    with open(source, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    progress = []

    report = import_contacts(
        source,
        GatewayClient(url, "key"),
        tmp_path / "rejected.csv",
        batch_size=BATCH,
        parallel=4,
        on_progress=progress.append,
    )

    with open(tmp_path / "rejected.csv", newline="") as handle:
        rejected = [int(r["line"]) for r in csv.DictReader(handle)]
    assert rejected == bad_lines  # every one, in file order
    assert report.rows == sum(progress) == ROWS
    good = [r for r in rows if "bad" not in r["email"] and r["contact_score"] == "1"]
    assert report.rejected == len(bad_lines)
    assert report.created == len({r["email"] for r in good}) == len(state.stored)
    assert report.updated == len(good) - report.created
    # Batches overlapped, no more than asked; a contact's later row was applied last.
    assert 1 < state.most_in_flight <= 4
    latest = {r["email"]: r["first_name"] for r in good}
    assert state.stored == latest


def test_one_at_a_time_when_asked(gateway, tmp_path):
    state, url = gateway
    source = tmp_path / "people.csv"
    source.write_text("email\n" + "".join(f"s{i}@example.com\n" for i in range(200)))
    report = import_contacts(
        source, GatewayClient(url, "key"), tmp_path / "rejected.csv", batch_size=BATCH, parallel=1
    )
    assert report.created == 200
    assert state.most_in_flight == 1
