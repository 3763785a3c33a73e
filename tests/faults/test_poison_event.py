"""A poison event end to end, through the suite's processes and the `plexus` command:
activity's handler fails on it every time (its database refuses the feed's rows: a bad
trigger deployed), so the event is retried with back-off, then parked on the dead-letter
queue with the error; `plexus deadletters list` shows it with that error; once the
cause is fixed, `plexus deadletters replay` sends it back and it is stored once.

tests/interface/test_event_consumer.py checks the same on one in-process container."""

import json
import time

import psycopg2

from plexus.consumer import backoff_seconds
from tests.e2e.conftest import metric as scraped
from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.polling import wait_for

ATTEMPTS = 5  # plexus.consumer.MAX_ATTEMPTS
REFUSE = """
CREATE FUNCTION activity.refuse_feed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'feed rows refused by a bad trigger'; END $$;
CREATE TRIGGER refuse_feed_rows BEFORE INSERT ON activity.activity_items
FOR EACH ROW EXECUTE FUNCTION activity.refuse_feed_rows();
"""
FIX = "DROP TRIGGER refuse_feed_rows ON activity.activity_items"


def sql(url: str, statement: str, *args):
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def parked(suite) -> list[dict]:
    listed = suite.plexus("deadletters", "list", "activity", "contacts", "--json")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def metric(suite, name: str, **labels) -> float:
    """The sum of the activity process's samples of `name` carrying those labels."""
    return scraped(suite.env["PLEXUS_ACTIVITY_METRICS_PORT"], name, **labels)


def test_a_poison_event_is_retried_parked_listed_and_replayed_once(
    amqp_uri, tmp_path, postgres_url
):
    env = suite_env(amqp_uri, tmp_path, postgres_url)
    suite = start_suite(
        env,
        tmp_path / "suite.log",
        "--only",
        "contacts",
        "--only",
        "activity",
        "--only",
        "gateway",
        wait_for="/health",
    )
    try:
        http = suite.http()
        # /health speaks for the gateway alone: wait until contacts answers too.
        wait_for(
            lambda: (
                http.get(
                    suite.url + "/v1/contacts", params={"email": "x@example.com"}, timeout=15
                ).status_code
                == 200
            ),
            30,
            "contacts",
            every=0.3,
        )
        sql(postgres_url, REFUSE)
        sent = time.monotonic()
        created = http.post(suite.url + "/v1/contacts", json={"user_id": "poison-1"}, timeout=15)
        assert created.status_code == 201, created.text
        contact_id = created.json()["id"]

        # Retried with back-off, then parked with its error; nothing stored meanwhile.
        [entry] = wait_for(lambda: parked(suite), 60, "the event parked", every=0.5)
        took = time.monotonic() - sent
        event_id = entry["payload"]["event_id"]
        assert entry["payload"]["contact_id"] == contact_id
        assert entry["payload"]["event"] == "contact_created"
        assert entry["attempts"] == ATTEMPTS
        assert "feed rows refused by a bad trigger" in entry["error"]
        assert took >= sum(backoff_seconds(n) for n in range(1, ATTEMPTS))
        assert (
            metric(
                suite,
                "plexus_event_retries_total",
                service="activity",
                source="contacts",
                outcome="retried",
            )
            == ATTEMPTS - 1
        )
        assert (
            metric(
                suite,
                "plexus_event_retries_total",
                service="activity",
                source="contacts",
                outcome="dead_lettered",
            )
            == 1
        )
        shown = suite.plexus("deadletters", "list", "activity", "contacts")
        assert f"{event_id}  contact_created  after {ATTEMPTS} attempts: " in shown.stdout
        assert "feed rows refused by a bad trigger" in shown.stdout
        assert "1 event(s) parked on plexus.events.contacts.activity.dead" in shown.stderr
        feed = f"{suite.url}/v1/contacts/{contact_id}/activity"
        assert http.get(feed, timeout=15).json()["data"] == []
        assert parked(suite) == [entry]  # listing left it parked

        # The cause fixed, a replay delivers it, and it is stored once.
        sql(postgres_url, FIX)
        replayed = suite.plexus("deadletters", "replay", "activity", "contacts")
        assert replayed.stdout.strip() == "1 event(s) sent back to activity", replayed.stderr
        items = wait_for(
            lambda: http.get(feed, timeout=15).json()["data"],
            30,
            "the replayed event in the feed",
            every=0.3,
        )
        assert [item["type"] for item in items] == ["added"]
        assert sql(
            postgres_url,
            "SELECT count(*) FROM activity.activity_items WHERE source_event_id = %s",
            event_id,
        ) == [(1,)]
        assert parked(suite) == []
        # The handler ran once more than the attempts that failed: once for the replay.
        wait_for(
            lambda: (
                metric(
                    suite,
                    "plexus_event_handler_duration_seconds_count",
                    service="activity",
                    event="contact_created",
                )
                == ATTEMPTS + 1
            ),
            10,
            "the handling",
        )
        print(
            f"parked after {took:.1f} s and {ATTEMPTS} attempts; listed as: {shown.stdout}"
            f"replayed: {len(items)} feed row"
        )
    finally:
        stop_suite(suite)
