"""A backing service that is down or silent makes the gateway answer 503 within its
deadline, never hang."""

import time

import requests
from kombu import Connection, Exchange, Queue

from tests.e2e.conftest import start_suite, stop_suite, suite_env


def test_gateway_answers_503_when_contacts_is_away_or_silent(amqp_uri, tmp_path):
    env = suite_env(amqp_uri, tmp_path, None)
    env["PLEXUS_RPC_TIMEOUT"] = "2"
    suite = start_suite(env, tmp_path / "suite.log", "--only", "gateway", wait_for="/health")
    try:
        http = suite.http()
        away = http.get(suite.url + "/v1/contacts/some-id", timeout=15)
        assert away.status_code == 503, away.text
        assert away.headers["Content-Type"].startswith("application/problem+json")
        assert "contacts" in away.json()["detail"]
        # The gateway itself is ready (its database and broker): Kubernetes keeps it in
        # its Service; the report for people says what is missing.
        assert requests.get(suite.url + "/ready", timeout=15).status_code == 200
        status = requests.get(suite.url + "/status", timeout=15)
        assert status.status_code == 503
        assert status.json()["services"]["contacts"] == "the contacts service is not running"

        # A queue with nobody consuming it: the request is accepted by the broker but
        # never answered, so only the deadline ends the wait.
        with Connection(amqp_uri) as connection:
            Queue(
                "rpc-contacts-silent",
                Exchange("nameko-rpc", type="topic", durable=True),
                routing_key="contacts.*",
                auto_delete=False,
            )(connection).declare()
        started = time.monotonic()
        silent = http.get(suite.url + "/v1/contacts/some-id", timeout=15)
        waited = time.monotonic() - started
        assert silent.status_code == 503, silent.text
        assert 1.5 <= waited < 6, waited
    finally:
        stop_suite(suite)


def test_status_pings_every_service_at_once_and_keeps_the_answer(amqp_uri, tmp_path):
    env = suite_env(amqp_uri, tmp_path, None)
    suite = start_suite(env, tmp_path / "suite.log", "--only", "gateway", wait_for="/health")
    try:
        # Four services whose queues nobody consumes: each ping waits its whole 2 s.
        silent = ("contacts", "activity", "messaging", "segments")
        with Connection(amqp_uri) as connection:
            for service in silent:
                Queue(
                    f"rpc-{service}-silent",
                    Exchange("nameko-rpc", type="topic", durable=True),
                    routing_key=f"{service}.*",
                    auto_delete=False,
                )(connection).declare()
        time.sleep(1.5)  # past what /status kept from the start
        started = time.monotonic()
        status = requests.get(suite.url + "/status", timeout=15)
        waited = time.monotonic() - started
        assert status.status_code == 503
        for service in silent:
            assert "did not answer within 2 s" in status.json()["services"][service]
        assert waited < 4, waited  # one after another: 8 s and more
        answered = time.monotonic()
        while time.monotonic() - answered < 0.7:  # kept 1 s while a service is missing
            again = requests.get(suite.url + "/status", timeout=15)
            assert again.elapsed.total_seconds() < 0.5  # no ping, no wait
            assert again.json() == status.json()
        assert requests.get(suite.url + "/ready", timeout=5).status_code == 200
    finally:
        stop_suite(suite)
