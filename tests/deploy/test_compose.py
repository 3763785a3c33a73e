"""docker-compose.yml and the Dockerfile: valid against the compose spec, and in step
with the suite (plexus.suite.SERVICES) and config.yaml. Docker itself cannot run here."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from plexus.config import PROJECT_ROOT, load_config, metrics_port
from plexus.suite import SERVICES

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_file_follows_the_compose_spec():
    # The schema ships inside check-jsonschema; a dead proxy proves nothing is fetched.
    offline = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=offline,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_suite_service_runs_in_compose(compose, name):
    service = compose["services"][name]
    assert service["command"] == [SERVICES[name]]
    assert service["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    environment = service["environment"]
    assert environment["PLEXUS_AMQP_URI"].startswith("pyamqp://")
    assert environment["PLEXUS_DATABASE_URL"].startswith("postgresql://")
    assert environment["PLEXUS_METRICS_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("name", list(SERVICES))
def test_metrics_ports_match_config_yaml(compose, name, monkeypatch):
    monkeypatch.delenv(f"PLEXUS_{name.upper()}_METRICS_PORT", raising=False)
    port = metrics_port(load_config(), name)
    assert f"127.0.0.1:{port}:{port}" in compose["services"][name]["ports"]


def test_gateway_listens_on_every_interface_of_its_container(compose):
    gateway = compose["services"]["gateway"]
    assert gateway["environment"]["PLEXUS_GATEWAY_HOST"] == "0.0.0.0"
    assert "127.0.0.1:8000:8000" in gateway["ports"]


def test_brokers_and_databases_have_health_checks(compose):
    services = compose["services"]
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert services["rabbitmq"]["healthcheck"]["test"] == [
        "CMD",
        "rabbitmq-diagnostics",
        "-q",
        "ping",
    ]
    assert services["postgres"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_migrate_runs_once_before_the_services(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["entrypoint"] + migrate["command"] == ["plexus", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_dockerfile_builds_wheels_and_runs_nameko_as_a_plain_user():
    text = DOCKERFILE.read_text()
    # Both stages on one base image, pinned by digest.
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base)
    # Every package from the lock, checked by hash; the driver compiled, not the binary.
    assert "AS builder" in text and "--require-hashes" in text and "-r requirements.lock" in text
    assert "--no-binary psycopg2" in text and "psycopg2-binary" not in text
    assert re.search(r"^USER plexus$", text, re.M)
    [entrypoint] = re.findall(r"^ENTRYPOINT (.+)$", text, re.M)
    assert json.loads(entrypoint) == ["nameko", "run", "--config", "/app/config.yaml"]
    [command] = re.findall(r"^CMD (.+)$", text, re.M)
    assert json.loads(command)[0] in SERVICES.values()


def test_prometheus_and_grafana_run_with_the_deploy_files(compose):
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert grafana["depends_on"]["prometheus"] == {"condition": "service_healthy"}
    provider = yaml.safe_load(
        (PROJECT_ROOT / "deploy/grafana/provisioning/dashboards/plexus.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_service_connects_as_its_own_broker_user(compose, name):
    user = "plexus-" + name.replace("_", "-")
    uri = compose["services"][name]["environment"]["PLEXUS_AMQP_URI"]
    assert uri.startswith(f"pyamqp://{user}:${{PLEXUS_{name.upper()}_AMQP_PASSWORD:-")
    users = compose["services"]["rabbitmq-users"]
    assert f"PLEXUS_{name.upper()}_AMQP_PASSWORD" in users["environment"]


def test_broker_users_are_made_before_anything_connects(compose):
    users = compose["services"]["rabbitmq-users"]
    assert users["entrypoint"] == ["bash", "/plexus-scripts/rabbitmq-users.sh"]
    assert "./scripts:/plexus-scripts:ro" in users["volumes"]
    assert users["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    assert compose["services"]["migrate"]["depends_on"]["rabbitmq-users"] == {
        "condition": "service_completed_successfully"
    }
    assert compose["services"]["migrate"]["environment"]["PLEXUS_AMQP_URI"].startswith(
        "pyamqp://plexus-admin:"
    )
