"""The gateway's HTTP entrypoint (DirectHttp) in a real container on the real broker,
with a backing service that takes its time: answers are the service's, and a request in
flight when the gateway is stopped (a deploy, a scale-down) is answered first."""

import secrets

import eventlet
import pytest
import requests
from nameko.web.server import WebServer

from plexus.migrations import migrate_service
from plexus.rpc import answer
from services.gateway.entrypoints import GatewayService

KEY = "plx_" + secrets.token_urlsafe(32)
CONTACT = {"id": "01jdx00000000000000000000a", "email": "slow@example.com"}


class SlowContacts:
    name = "contacts"

    @answer
    def get_contact(self, contact_id):
        eventlet.sleep(1)
        return {**CONTACT, "id": contact_id}


@pytest.fixture
def gateway(service_config, container_factory):
    service_config["GATEWAY"]["bootstrap_key"] = KEY
    migrate_service(service_config, "gateway")
    container_factory(SlowContacts).start()
    container = container_factory(GatewayService)
    container.start()
    server = next(e for e in container.subextensions if isinstance(e, WebServer))
    return container, f"http://127.0.0.1:{server._sock.getsockname()[1]}"


def get(url: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)


def test_a_request_in_flight_is_answered_before_the_gateway_stops(gateway):
    container, url = gateway
    assert get(f"{url}/v1/contacts/{CONTACT['id']}").json() == CONTACT
    waiting = [eventlet.spawn(get, f"{url}/v1/contacts/{CONTACT['id']}") for _ in range(3)]
    eventlet.sleep(0.3)  # each is waiting on contacts now
    container.stop()
    assert [w.wait().status_code for w in waiting] == [200, 200, 200]
    with pytest.raises(requests.ConnectionError):  # and then it is gone
        get(f"{url}/health")
