"""Hostile input against the running suite: the gateway's probes. Each sends what an
attacker (or a broken client) would and asserts a fast 4xx, memory that stays bounded
in the gateway and every service (RSS from /proc, before and after), and an API that
still answers. Messaging's and segments' probes are in test_hostile_messaging.py and
test_hostile_segments.py."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.polling import wait_for

SOCKET_TIMEOUT = 4  # seconds; production's default is 30
MAX_CONNECTIONS = 600
RSS_GROWTH_LIMIT = 64 * 1024 * 1024  # bytes a probe may leave any process holding
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def hostile(amqp_uri, tmp_path_factory):
    """A suite of its own: the connection limits are set low enough to test in seconds."""
    data_dir = tmp_path_factory.mktemp("hostile")
    env = suite_env(amqp_uri, data_dir, None)
    env["PLEXUS_GATEWAY_SOCKET_TIMEOUT"] = str(SOCKET_TIMEOUT)
    env["PLEXUS_GATEWAY_MAX_CONNECTIONS"] = str(MAX_CONNECTIONS)
    suite = start_suite(env, data_dir / "suite.log")
    yield suite
    stop_suite(suite)
    assert suite.process.returncode == 0, suite.log.read_text()[-4000:]


def service_pids(suite) -> dict[str, int]:
    """{service: pid} of the `nameko run` children of `plexus run`."""
    found, todo = {}, [suite.process.pid]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            todo += [int(child) for child in children]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        for arg in command:
            if arg.startswith(b"services.") and b":" in arg:
                found[arg.decode().split(":")[1]] = pid
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def api_answers(suite) -> None:
    started = time.monotonic()
    answer = suite.http().get(
        suite.url + "/v1/contacts", params={"email": "no@x.example"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert time.monotonic() - started < 2


@pytest.fixture
def watched(hostile):
    """The suite, checked after the probe: every process's memory within bounds, and
    the API still answering."""
    pids = service_pids(hostile)
    assert "GatewayService" in pids, pids
    before = {name: rss_bytes(pid) for name, pid in pids.items()}
    yield hostile
    api_answers(hostile)
    grown = {name: rss_bytes(pid) - before[name] for name, pid in pids.items()}
    assert all(growth < RSS_GROWTH_LIMIT for growth in grown.values()), grown


def assert_problem(
    answer: requests.Response, status: int, field: str | None = None, within: float = 1.0
) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.elapsed.total_seconds() < within, answer.elapsed
    problem = answer.json()
    if field is not None:
        assert field in problem["errors"], problem
    return problem


def new_contact(suite) -> dict:
    made = suite.http().post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={"email": f"h-{uuid.uuid4().hex[:10]}@example.com"},
    )
    assert made.status_code == 201, made.text
    return made.json()


# ------------------------------------------------------------------ long paths

# eventlet reads a request line of up to 8 K; each of these paths is logged whole in the
# access line, which the log redaction scans (0.34 to 0.9 s of CPU each, before).
EIGHT_KB_PATHS = ["a." * 4000, "a" * 8000, "a-" * 4000, "+1" * 4000, "a%40" * 2000]


def test_8_kb_paths_are_a_fast_404_and_cost_the_gateway_little_cpu(watched):
    gateway = service_pids(watched)["GatewayService"]
    spent = cpu_seconds(gateway)
    with requests.Session() as http:
        for _ in range(4):
            for path in EIGHT_KB_PATHS:
                assert_problem(http.get(f"{watched.url}/{path}", timeout=10), 404)
    spent = cpu_seconds(gateway) - spent
    assert spent < 2, f"20 requests of 8 KB paths took {spent:.2f} s of the gateway's CPU"
    longer = requests.get(f"{watched.url}/{'a' * 9000}", timeout=10)  # eventlet's limit
    assert longer.status_code == 414 and longer.elapsed.total_seconds() < 1


def test_a_doubled_slash_is_404_not_500(watched):
    for path in ("/v1//contacts", "/v1/contacts//x", "/v1//segments"):
        assert_problem(watched.http().get(watched.url + path, timeout=10), 404)


# ------------------------------------------------------------------ text that is not text


def test_a_nul_in_a_query_parameter_is_422_naming_it(watched):
    # On PostgreSQL, GET /v1/templates?cursor=%00... failed its statement: a 500.
    for path in ("/v1/templates", "/v1/contacts", "/v1/segments", "/v1/sources"):
        assert_problem(
            watched.http().get(watched.url + path, timeout=10, params={"cursor": "\x00abc"}),
            422,
            "cursor",
        )


def test_a_lone_surrogate_is_422_naming_the_field(watched):
    email = f"s-{uuid.uuid4().hex[:8]}@example.com"
    body = b'{"email": "%s", "first_name": "Ol\\ud800ena"}' % email.encode()
    http = watched.http()
    http.headers["Content-Type"] = "application/json"
    assert_problem(
        http.post(watched.url + "/v1/contacts", data=body, timeout=10), 422, "first_name"
    )
    contact = new_contact(watched)
    assert_problem(
        http.patch(
            f"{watched.url}/v1/contacts/{contact['id']}",
            timeout=10,
            data=b'{"address": {"city": "\\udfff"}}',
        ),
        422,
        "address.city",
    )
    assert_problem(
        http.post(
            watched.url + "/v1/contacts/batch",
            timeout=10,
            data=b'{"contacts": [{"email": "\\ud83d@x.example"}]}',
        ),
        422,
        "contacts.0.email",
    )


def test_a_newline_in_a_source_name_is_422_and_any_name_a_valid_location(watched):
    http = watched.http()
    for name in ("web\nsite", "web\r\nSet-Cookie: session=stolen"):
        assert_problem(
            http.post(watched.url + "/v1/sources", json={"name": name}, timeout=10), 422, "name"
        )
    name = f"Київ/shop? {uuid.uuid4().hex[:6]}"
    made = http.post(watched.url + "/v1/sources", json={"name": name}, timeout=10)
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == ("/v1/sources/" + requests.utils.quote(name, safe=""))


# ------------------------------------------------------------------ web push endpoints

PRIVATE_ENDPOINTS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://127.0.0.1:15672/api/definitions",
    "https://localhost/push",
    "https://[::1]/push",
    "https://10.0.0.1/push",
    "https://192.168.1.1/push",
    "https://rabbitmq.plexus.svc.cluster.local/api/users",
    "http://fcm.googleapis.com/fcm/send/x",
]
KEYS = {
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1Xbjha"
    "zAkj7I99e8QcYP7DkM",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}


def test_private_push_endpoints_are_422_and_ten_subscriptions_the_most(watched):
    contact = new_contact(watched)
    url = f"{watched.url}/v1/contacts/{contact['id']}/channels/webpush"
    http = watched.http()
    for endpoint in PRIVATE_ENDPOINTS:
        problem = assert_problem(
            http.post(
                url, timeout=10, json={"endpoint": endpoint, "device": "desktop", "keys": KEYS}
            ),
            422,
            "endpoint",
        )
        assert "push service" in json.dumps(problem) or "https" in json.dumps(problem)
    for n in range(10):
        made = http.post(
            url,
            timeout=10,
            json={
                "endpoint": f"https://fcm.googleapis.com/fcm/send/{contact['id']}-{n}",
                "device": "desktop",
                "keys": KEYS,
            },
        )
        assert made.status_code == 201, made.text
    assert_problem(
        http.post(
            url,
            timeout=10,
            json={
                "endpoint": f"https://fcm.googleapis.com/fcm/send/{contact['id']}-10",
                "device": "desktop",
                "keys": KEYS,
            },
        ),
        422,
        "endpoint",
    )
    stored = http.get(f"{watched.url}/v1/contacts/{contact['id']}", timeout=10).json()
    assert len(stored["channels"]["webpush"]) == 10
    assert not any(s["endpoint"] in PRIVATE_ENDPOINTS for s in stored["channels"]["webpush"])


# ------------------------------------------------------------------ metrics


def test_metrics_are_not_on_the_public_port_and_name_no_api_key(watched):
    name = f"partner-{uuid.uuid4().hex[:8]}"
    made = watched.plexus("apikey", "create", "--name", name, "--scope", "contacts:read")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert (
        watched.http(key)
        .get(watched.url + "/v1/contacts", params={"email": "a@x.example"}, timeout=10)
        .status_code
        == 200
    )
    assert_problem(requests.get(watched.url + "/metrics", timeout=10), 404)
    port = watched.env["PLEXUS_GATEWAY_METRICS_PORT"]
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert (
        'plexus_gateway_requests_total{method="GET",route="/v1/contacts",status="200"}' in metrics
    )
    assert name not in metrics and "key=" not in metrics


# ------------------------------------------------------------------ slow clients


def idle_connections(url: str, count: int) -> list[socket.socket]:
    """Connections that say nothing, or half a request line, and wait."""
    host, port = url.removeprefix("http://").split(":")
    made = []
    for n in range(count):
        sock = socket.socket()
        sock.settimeout(5)
        sock.connect((host, int(port)))
        if n % 2:
            sock.sendall(b"GET /v1/contacts HTTP/1.1\r\nHost: x\r\n")  # never finished
        made.append(sock)
    return made


def closed_by_the_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(4096) == b""
    except TimeoutError:
        return False
    except OSError:  # reset
        return True


def test_500_idle_connections_neither_block_answers_nor_outstay_the_timeout(watched):
    idle = idle_connections(watched.url, 500)
    try:
        for _ in range(10):  # the gateway answers while they wait
            api_answers(watched)
        # Over the cap, a connection is answered 503 at once and closed.
        extra = idle_connections(watched.url, MAX_CONNECTIONS - 500 + 20)
        answered = []
        for sock in extra:
            sock.settimeout(2)
            try:
                answered.append(sock.recv(4096))
            except TimeoutError:
                answered.append(b"")
        busy = [a for a in answered if a.startswith(b"HTTP/1.1 503")]
        assert len(busy) >= 10, len(busy)  # 20, less those a timeout closed meanwhile
        assert b'"too many open connections' in busy[0]
        for sock in extra:
            sock.close()
        # Past the socket timeout, the server has closed every idle one.
        started = time.monotonic()
        wait_for(
            lambda: all(closed_by_the_server(sock) for sock in idle),
            SOCKET_TIMEOUT + 5,
            "the gateway closing the idle connections",
            every=0.5,
        )
        assert time.monotonic() - started < SOCKET_TIMEOUT + 5
    finally:
        for sock in idle:
            sock.close()
