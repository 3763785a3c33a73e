"""More than one process per consumer: two activity and two segments processes share
their queues (`plexus run --scale`), and a 5,000-contact import still gives every
contact exactly one `added` item, and a segment of all of them counts each once."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kombu import Connection
from sqlalchemy import text

from plexus.consumer import queue_name
from plexus.db import make_engine
from tests.e2e.conftest import running_suite, wait_until_idle

CONTACTS = 5000
BATCH = 1000


@pytest.fixture(params=["sqlite", "postgres"])
def scaled_suite(request, amqp_uri, tmp_path):
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    yield from running_suite(
        amqp_uri, tmp_path, database_url, "--scale", "activity=2", "--scale", "segments=2"
    )


def database(suite, service: str):
    """The service's database, read as the suite's processes write it."""
    shared = suite.env.get("PLEXUS_DATABASE_URL")
    if shared:
        return make_engine(shared, schema=service)
    return make_engine(f"sqlite:///{suite.env['PLEXUS_DATA_DIR']}/{service}.db")


def consumers(suite, queue: str) -> int:
    with Connection(suite.env["PLEXUS_AMQP_URI"]) as connection:
        return connection.channel().queue_declare(queue, passive=True).consumer_count


def test_two_processes_of_each_consumer_store_each_event_once(scaled_suite):
    suite = scaled_suite
    http = suite.http()
    for consumer in ("activity", "segments"):
        queue = queue_name(consumer, "contacts")
        deadline = time.monotonic() + 30
        while consumers(suite, queue) != 2:
            assert time.monotonic() < deadline, f"{queue}: {consumers(suite, queue)} consumers"
            time.sleep(0.2)
    segment = http.post(
        suite.url + "/v1/segments",
        timeout=15,
        json={"name": "scaled", "rule": {"field": "last_name", "op": "eq", "value": "Scaled"}},
    ).json()
    people = [
        {"email": f"scaled{n}@example.com", "phone": f"+38066{n:07d}", "last_name": "Scaled"}
        for n in range(CONTACTS)
    ]

    def post(first: int) -> list[dict]:
        answer = http.post(
            suite.url + "/v1/contacts/batch",
            timeout=120,
            json={"contacts": people[first : first + BATCH]},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]

    with ThreadPoolExecutor(2) as pool:
        results = [r for batch in pool.map(post, range(0, CONTACTS, BATCH)) for r in batch]
    assert [r["status"] for r in results] == ["created"] * CONTACTS
    ids = {r["id"] for r in results}

    wait_until_idle(suite, seconds=300)
    deadline = time.monotonic() + 60
    while (
        counted := http.get(suite.url + f"/v1/segments/{segment['id']}", timeout=15).json()[
            "member_count"
        ]
    ) != CONTACTS:
        assert time.monotonic() < deadline, f"the segment counts {counted}"
        time.sleep(0.5)

    activity = database(suite, "activity")
    with activity.connect() as connection:
        added = dict(
            connection.execute(
                text(
                    "SELECT contact_id, count(*) FROM activity_items WHERE type = 'added' "
                    "GROUP BY contact_id"
                )
            ).all()
        )
        subscribed = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT source_event_id) FROM activity_items "
                "WHERE type = 'subscribed'"
            )
        ).one()
    activity.dispose()
    assert set(added) == ids and set(added.values()) == {1}
    assert tuple(subscribed) == (2 * CONTACTS, 2 * CONTACTS)  # email and sms, once each

    segments = database(suite, "segments")
    with segments.connect() as connection:
        members = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT contact_id) FROM memberships "
                "WHERE segment_id = :id"
            ),
            {"id": segment["id"]},
        ).one()
    segments.dispose()
    assert tuple(members) == (CONTACTS, CONTACTS)
