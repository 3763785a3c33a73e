"""The database away for a while: writes answer 503 within the deadline with nothing
half-written, and the service recovers by itself when the database is back."""

import time
import uuid

import pytest

from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.faults.tcp_proxy import CuttableProxy


@pytest.fixture
def proxy():
    running = CuttableProxy(("127.0.0.1", 5432)).start()
    yield running
    running.cut()


def test_database_away_means_503_then_recovery_without_a_restart(
    amqp_uri, tmp_path, postgres_url, proxy
):
    database = postgres_url.rsplit("/", 1)[1]
    env = suite_env(amqp_uri, tmp_path, f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}")
    # /ready also asks services this test does not start: wait for the contacts service.
    suite = start_suite(
        env, tmp_path / "suite.log", "--only", "contacts", "--only", "gateway", wait_for="/health"
    )
    try:
        http, url = suite.http(), suite.url + "/v1/contacts"
        deadline = time.monotonic() + 30
        while (
            first := http.post(url, json={"email": "before@example.com"}, timeout=15)
        ).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert first.status_code == 201, first.text

        proxy.cut()
        started = time.monotonic()
        away = http.post(url, timeout=15, json={"email": f"away-{uuid.uuid4().hex}@x.example"})
        assert away.status_code == 503, away.text
        assert away.headers["Content-Type"].startswith("application/problem+json")
        assert time.monotonic() - started < 11
        lost_email = away.request.body.decode().split('"')[3]
        assert http.get(url, params={"email": "before@example.com"}, timeout=15).status_code == 503

        proxy.restore()
        deadline = time.monotonic() + 20
        while (
            back := http.post(url, timeout=15, json={"email": "after@example.com"})
        ).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert back.status_code == 201, back.text
        found = http.get(url, params={"email": lost_email}, timeout=15).json()["data"]
        assert found == []  # the refused write left nothing behind
        assert (
            len(http.get(url, params={"email": "before@example.com"}, timeout=15).json()["data"])
            == 1
        )
    finally:
        stop_suite(suite)
