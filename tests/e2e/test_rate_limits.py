"""Per-key rate limits at the gateway: a key over its bucket gets 429 with Retry-After,
every answer says the limit and what is left of it, sends have a stricter bucket than
the rest, and another key is not affected."""

import requests

from tests.e2e.conftest import start_suite, stop_suite, suite_env


def test_keys_over_their_limit_get_429_with_retry_after(amqp_uri, tmp_path):
    env = suite_env(amqp_uri, tmp_path, None)
    env.update(
        {
            "PLEXUS_RATE_LIMIT_PER_SECOND": "0.2",
            "PLEXUS_RATE_LIMIT_BURST": "4",
            "PLEXUS_SEND_RATE_LIMIT_PER_SECOND": "0.1",
            "PLEXUS_SEND_RATE_LIMIT_BURST": "2",
        }
    )
    # The gateway alone is enough: the limit is taken before any backing service is asked.
    suite = start_suite(env, tmp_path / "suite.log", "--only", "gateway", wait_for="/health")
    try:
        http = suite.http()
        reads = [http.get(suite.url + "/v1/contacts/x", timeout=15) for _ in range(5)]
        assert [r.status_code for r in reads[:4]] == [503] * 4  # contacts is not running
        limited = reads[4]
        assert limited.status_code == 429, limited.text
        assert limited.headers["Content-Type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["Retry-After"]) <= 5
        assert [r.headers["X-RateLimit-Limit"] for r in reads] == ["4"] * 5
        assert [r.headers["X-RateLimit-Remaining"] for r in reads] == ["3", "2", "1", "0", "0"]

        sends = [http.post(suite.url + "/v1/messages", json={}, timeout=15) for _ in range(3)]
        assert [s.status_code for s in sends] == [503, 503, 429]
        assert int(sends[2].headers["Retry-After"]) <= 10

        other = suite.plexus("apikey", "create", "--name", "other", "--scope", "admin")
        fresh = suite.http(other.stdout.strip())
        assert fresh.get(suite.url + "/v1/contacts/x", timeout=15).status_code == 503
        assert requests.get(suite.url + "/health", timeout=5).status_code == 200
    finally:
        stop_suite(suite)
