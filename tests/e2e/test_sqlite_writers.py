"""The embedded default under concurrent writes: on SQLite, 1,000-item batches, single
writes and the outbox relay (every write records events) at once, against one suite.
Each answer is a success; none is the 503 of a `database is locked`."""

import threading
import time
import uuid

import pytest

from tests.e2e.conftest import running_suite

BATCHES = 2  # clients posting 1,000-item batches side by side
BATCH_ROUNDS = 3  # batches each of them posts
SINGLE_WRITERS = 3  # clients creating and updating one contact a request meanwhile


@pytest.fixture(scope="module")
def sqlite_suite(amqp_uri, tmp_path_factory):
    yield from running_suite(amqp_uri, tmp_path_factory.mktemp("suite-sqlite-writers"))


def test_batches_single_writes_and_the_relay_at_once(sqlite_suite):
    suite = sqlite_suite
    tag = uuid.uuid4().hex[:6]
    answers: list[tuple[str, int, str]] = []
    batches_done = threading.Event()

    def batches(client: int) -> None:
        http = suite.http()
        for round_ in range(BATCH_ROUNDS):
            contacts = [
                {"email": f"b-{tag}-{client}-{round_}-{i}@example.com", "first_name": f"B{i}"}
                for i in range(1000)
            ]
            sent = time.monotonic()
            answer = http.post(
                suite.url + "/v1/contacts/batch", json={"contacts": contacts}, timeout=60
            )
            print(
                f"batch {client}.{round_}: {answer.status_code} in {time.monotonic() - sent:.1f} s"
            )
            answers.append(("batch", answer.status_code, answer.text[:200]))
            if answer.status_code == 200:
                statuses = {r["status"] for r in answer.json()["results"]}
                answers.append(
                    ("batch items", 200 if statuses == {"created"} else 500, str(statuses))
                )

    def single_writes(client: int) -> None:
        http = suite.http()
        n = 0
        while not batches_done.is_set():
            n += 1
            answer = http.post(
                suite.url + "/v1/contacts",
                timeout=60,
                json={"email": f"s-{tag}-{client}-{n}@example.com", "first_name": "S"},
            )
            answers.append(("create", answer.status_code, answer.text[:200]))
            if answer.status_code == 201:
                changed = http.patch(
                    f"{suite.url}/v1/contacts/{answer.json()['id']}",
                    json={"first_name": "T"},
                    timeout=60,
                )
                answers.append(("update", changed.status_code, changed.text[:200]))

    writers = [threading.Thread(target=single_writes, args=(n,)) for n in range(SINGLE_WRITERS)]
    posters = [threading.Thread(target=batches, args=(n,)) for n in range(BATCHES)]
    started = time.monotonic()
    for thread in writers + posters:
        thread.start()
    for thread in posters:
        thread.join(timeout=600)
    batches_done.set()
    for thread in writers:
        thread.join(timeout=120)
    seconds = time.monotonic() - started

    failed = [a for a in answers if a[1] >= 300]
    assert not failed, failed[:5]
    assert sum(1 for kind, _, _ in answers if kind == "batch items") == BATCHES * BATCH_ROUNDS
    assert sum(1 for kind, _, _ in answers if kind == "create") >= SINGLE_WRITERS
    assert "database is locked" not in suite.log.read_text()
    print(f"{BATCHES * BATCH_ROUNDS * 1000} batched and {len(answers)} requests in {seconds:.1f} s")

    # Every contact of the last batches is there, stored once.
    http = suite.http()
    for client in range(BATCHES):
        email = f"b-{tag}-{client}-{BATCH_ROUNDS - 1}-999@example.com"
        found = http.get(suite.url + "/v1/contacts", params={"email": email}, timeout=15)
        assert len(found.json()["data"]) == 1, email
