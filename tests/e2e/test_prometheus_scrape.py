"""A real Prometheus scrapes the running suite: every service's target is up and the
key series exist, and they move when the API is used."""

import shutil
import subprocess
import time

import pytest
import requests
import yaml

from plexus.config import PROJECT_ROOT
from plexus.suite import SERVICES
from tests.e2e.conftest import free_port

DEPLOYED = PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml"
RABBITMQ_PROMETHEUS = "127.0.0.1:15692"


def queue_job() -> dict:
    """The deployment's per-queue RabbitMQ job, pointed at the local broker."""
    [job] = [
        job
        for job in yaml.safe_load(DEPLOYED.read_text())["scrape_configs"]
        if job["job_name"] == "rabbitmq-queues"
    ]
    return {**job, "static_configs": [{"targets": [RABBITMQ_PROMETHEUS]}]}


def metrics_ports(env: dict) -> dict[str, str]:
    return {name: env[f"PLEXUS_{name.upper()}_METRICS_PORT"] for name in SERVICES}


@pytest.fixture
def prometheus(suite, tmp_path):
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus not found: Debian's prometheus package (make test installs it)")
    # The broker's own exporter (a plugin shipped with RabbitMQ): on, as in production.
    subprocess.run(
        ["rabbitmq-plugins", "enable", "--quiet", "rabbitmq_prometheus"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": f"plexus-{name}", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for name, port in metrics_ports(suite.env).items()
        ]
        + [queue_job()],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


def query(prometheus: str, expr: str) -> list:
    answer = requests.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5)
    return answer.json()["data"]["result"]


def eventually(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
            if result:
                return result
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "Prometheus never saw it"
        time.sleep(0.5)


def test_prometheus_scrapes_every_service_and_sees_traffic(suite, prometheus):
    def all_up():
        up = query(prometheus, 'up{job=~"plexus-.+"}')
        return len(up) == len(SERVICES) and all(s["value"][1] == "1" for s in up) and up

    up = eventually(all_up)
    assert {s["metric"]["job"] for s in up} == {f"plexus-{name}" for name in SERVICES}

    created = suite.http().post(
        suite.url + "/v1/contacts", timeout=15, json={"email": f"prom-{time.time_ns()}@example.com"}
    )
    assert created.status_code == 201
    eventually(
        lambda: query(
            prometheus,
            'plexus_gateway_requests_total{route="/v1/contacts", method="POST", status="201"}',
        )
    )
    eventually(
        lambda: query(
            prometheus,
            'plexus_rpc_duration_seconds_count{service="contacts", method="create_contact"}',
        )
    )
    eventually(
        lambda: query(
            prometheus, 'plexus_outbox_published_total{service="contacts", outbox="events"}'
        )
    )
    eventually(
        lambda: query(prometheus, 'plexus_db_pool_connections{service="contacts", state="idle"}')
    )
    # contact_created reaches activity, which measures how late it came
    eventually(lambda: query(prometheus, 'plexus_event_lag_seconds_count{service="activity"}'))

    def sent_total() -> float:
        samples = query(
            prometheus, 'sum(plexus_sender_messages_total{service="sender_email", outcome="sent"})'
        )
        return float(samples[0]["value"][1]) if samples else 0.0

    before = sent_total()
    for n in range(2):
        queued = suite.http().post(
            suite.url + "/v1/messages",
            timeout=15,
            json={
                "contact": {"id": created.json()["id"]},
                "channel": "email",
                "content": {"subject": f"n{n}", "text": "hello", "html": "<p>hello</p>"},
            },
        )
        assert queued.status_code == 202, queued.text
    eventually(lambda: sent_total() >= before + 2)
    eventually(
        lambda: query(
            prometheus,
            'plexus_provider_duration_seconds_count{service="sender_email", outcome="accepted"}',
        )
    )


def test_the_broker_shows_each_queue_depth_and_consumers(suite, prometheus):
    """What the queue alerts read: the suite's queues with their consumers, from the
    deployment's own scrape job."""
    vhost = suite.env["PLEXUS_AMQP_URI"].rsplit("/", 1)[1] or "/"
    found = eventually(
        lambda: query(
            prometheus,
            f'rabbitmq_detailed_queue_consumers{{vhost="{vhost}", '
            'queue="plexus.events.contacts.activity"}',
        ),
        30,
    )
    assert float(found[0]["value"][1]) >= 1
    assert eventually(
        lambda: query(prometheus, f'rabbitmq_detailed_queue_messages{{vhost="{vhost}"}}'), 30
    )
