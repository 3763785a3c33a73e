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
        assert requests.get(suite.url + "/ready", timeout=15).status_code == 503

        # A queue with nobody consuming it: the request is accepted by the broker but
        # never answered, so only the deadline ends the wait.
        with Connection(amqp_uri) as connection:
            Queue("rpc-contacts-silent", Exchange("nameko-rpc", type="topic", durable=True),
                  routing_key="contacts.*", auto_delete=False)(connection).declare()
        started = time.monotonic()
        silent = http.get(suite.url + "/v1/contacts/some-id", timeout=15)
        waited = time.monotonic() - started
        assert silent.status_code == 503, silent.text
        assert 1.5 <= waited < 6, waited
    finally:
        stop_suite(suite)
