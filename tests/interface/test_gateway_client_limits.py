"""The routes without a key are limited per client address, in the gateway's real HTTP
entrypoint: the tracking links and the provider webhooks each draw on their own bucket
(429 with Retry-After beyond it); X-Forwarded-For names the client only behind as many
proxies as are trusted, so a client cannot make itself a fresh bucket by sending one."""

import pytest
import requests
from nameko.web.server import WebServer

from plexus.errors import NotFound
from plexus.migrations import migrate_service
from plexus.rpc import answer
from services.gateway.entrypoints import GatewayService

BURST = 3


class QuietMessaging:
    name = "messaging"

    @answer
    def track_open(self, token):
        raise NotFound("unknown link")

    @answer
    def handle_webhook(self, provider, request):
        return {"verified": True, "recorded": 0}


def _gateway(service_config, container_factory, depth: int) -> str:
    limit = {"per_second": 0.01, "burst": BURST}
    service_config["GATEWAY"].update(
        client_rate_limits={"tracking": limit, "webhooks": limit}, trusted_proxy_depth=depth
    )
    migrate_service(service_config, "gateway")
    container_factory(QuietMessaging).start()
    container = container_factory(GatewayService)
    container.start()
    server = next(e for e in container.subextensions if isinstance(e, WebServer))
    return f"http://127.0.0.1:{server._sock.getsockname()[1]}"


@pytest.fixture
def direct(service_config, container_factory):
    return _gateway(service_config, container_factory, depth=0)


@pytest.fixture
def proxied(service_config, container_factory):
    return _gateway(service_config, container_factory, depth=1)


def test_each_keyless_class_has_its_own_bucket_per_client(direct):
    opens = [requests.get(f"{direct}/t/o/x", timeout=10) for _ in range(BURST + 1)]
    assert [a.status_code for a in opens] == [404] * BURST + [429]
    assert int(opens[-1].headers["Retry-After"]) >= 1
    assert opens[-1].json()["detail"].startswith("this client address is over its tracking")
    hooks = [
        requests.post(f"{direct}/webhooks/smtp", data=b"{}", timeout=10) for _ in range(BURST + 1)
    ]
    assert [a.status_code for a in hooks] == [200] * BURST + [429]
    # Not behind a trusted proxy: a forged X-Forwarded-For is the same client.
    forged = requests.get(
        f"{direct}/t/o/x", headers={"X-Forwarded-For": "198.51.100.9"}, timeout=10
    )
    assert forged.status_code == 429
    assert requests.get(f"{direct}/health", timeout=10).status_code == 200  # not limited


def test_behind_a_trusted_proxy_the_client_is_what_the_proxy_says(proxied):
    def opened(chain: str) -> int:
        return requests.get(
            f"{proxied}/t/o/x", headers={"X-Forwarded-For": chain}, timeout=10
        ).status_code

    assert [opened("203.0.113.1") for _ in range(BURST + 1)] == [404] * BURST + [429]
    assert opened("203.0.113.2") == 404
    # What the client put before the proxy's entry changes nothing.
    assert opened("198.51.100.7, 203.0.113.1") == 429
