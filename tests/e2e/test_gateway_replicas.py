"""Two gateway processes on one database, as a deployment with two replicas runs them:
a key's rate limit holds for the deployment (each replica takes its share), answers
say what is left of it, and a revoked key stops working on both within a second."""

import subprocess
import time

import eventlet
import pytest
import requests

from ops.runner import child_environment, nameko_command
from tests.e2e.conftest import ROOT, free_port, start_suite, stop_suite, suite_env

BURST = 10


@pytest.fixture(scope="module")
def replicas(amqp_uri, tmp_path_factory):
    """Two gateway URLs (the second a plain `nameko run` of the same service on ports of
    its own), and the suite; both have seen each other's heartbeat."""
    data_dir = tmp_path_factory.mktemp("replicas")
    env = suite_env(amqp_uri, data_dir, None)
    env.update({"PLEXUS_RATE_LIMIT_PER_SECOND": "0.01", "PLEXUS_RATE_LIMIT_BURST": str(BURST)})
    suite = start_suite(env, data_dir / "suite.log", "--only", "gateway", wait_for="/health")
    second_env = child_environment(
        "gateway",
        ROOT / "config.yaml",
        {
            **env,
            "PLEXUS_GATEWAY_PORT": str(free_port()),
            "PLEXUS_GATEWAY_METRICS_PORT": str(free_port()),
        },
    )
    second_url = f"http://127.0.0.1:{second_env['PLEXUS_GATEWAY_PORT']}"
    with open(data_dir / "second.log", "wb") as log:
        second = subprocess.Popen(
            nameko_command(ROOT / "config.yaml", "services.gateway.entrypoints:GatewayService"),
            env=second_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(second_url + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (data_dir / "second.log").read_text()
            time.sleep(0.25)
        time.sleep(2.5)  # two heartbeats: each has counted the other
        yield suite, [suite.url, second_url]
    finally:
        second.terminate()
        second.wait(timeout=20)
        stop_suite(suite)


def test_a_key_gets_its_burst_from_the_deployment_not_from_each_replica(replicas):
    suite, urls = replicas
    made = suite.plexus("apikey", "create", "--name", "burst", "--scope", "contacts:read")
    key = made.stdout.strip().split()[-1]

    def read(n):
        # Spread over the replicas as a load balancer spreads connections.
        return requests.get(
            urls[n % 2] + "/v1/contacts/x", headers={"Authorization": f"Bearer {key}"}, timeout=15
        )

    answers = list(eventlet.GreenPool(20).imap(read, range(40)))
    statuses = [a.status_code for a in answers]
    # contacts is not running: an admitted request is a 503, a refused one a 429.
    assert statuses.count(503) == BURST and statuses.count(429) == 40 - BURST, statuses
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == str(BURST)
        assert 0 <= int(answer.headers["X-RateLimit-Remaining"]) < BURST
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_a_revoked_key_stops_working_on_every_replica_within_a_second(replicas):
    suite, urls = replicas
    made = suite.plexus("apikey", "create", "--name", "leaving", "--scope", "admin")
    headers = {"Authorization": f"Bearer {made.stdout.strip().split()[-1]}"}
    for url in urls:  # each replica has the key in its cache
        assert requests.get(url + "/v1/contacts/x", headers=headers, timeout=15).status_code in (
            503,
            429,
        )
    revoked = suite.plexus("apikey", "revoke", "leaving")
    assert revoked.returncode == 0, revoked.stderr
    committed = time.monotonic()  # the CLI has exited: the revocation is committed
    refused = {}
    while len(refused) < len(urls) and time.monotonic() - committed < 3:
        for url in urls:
            if (
                url not in refused
                and requests.get(url + "/v1/contacts/x", headers=headers, timeout=15).status_code
                == 401
            ):
                refused[url] = time.monotonic() - committed
        time.sleep(0.02)
    assert set(refused) == set(urls)
    assert max(refused.values()) < 1.0, refused


def test_every_replica_refuses_a_key_without_the_scope_and_one_without_a_key(replicas):
    suite, urls = replicas
    made = suite.plexus("apikey", "create", "--name", "reader", "--scope", "segments:read")
    headers = {"Authorization": f"Bearer {made.stdout.strip().split()[-1]}"}
    for _ in range(2):  # the second time from each replica's cache
        for url in urls:
            read = requests.get(url + "/v1/segments/x", headers=headers, timeout=15)
            assert read.status_code in (503, 429)  # admitted (segments is not running)
            write = requests.post(url + "/v1/contacts", json={}, headers=headers, timeout=15)
            assert write.status_code == 403, write.text
            assert "X-RateLimit-Limit" not in write.headers  # refused before any token
            anonymous = requests.get(url + "/v1/segments/x", timeout=15)
            assert anonymous.status_code == 401
