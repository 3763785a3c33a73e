"""Fixtures every test layer shares: an isolated RabbitMQ vhost, databases (SQLite
files and fresh PostgreSQL databases), and nameko config pointing at them."""

import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

# nameko's pytest plugin no longer patches (since nameko 2.14); the containers need it.
eventlet.monkey_patch()

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import urllib.parse  # noqa: E402
import uuid  # noqa: E402

import nameko  # noqa: E402
import pytest  # noqa: E402

BROKER_HOST = os.environ.get("PLEXUS_TEST_BROKER", "127.0.0.1:5672")
POSTGRES_URL = os.environ.get("PLEXUS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _vhost():
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl not found: the tests need a local RabbitMQ")
    vhost = f"plexus-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"pyamqp://guest:guest@{BROKER_HOST}/{urllib.parse.quote(vhost, safe='')}"
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="module")
def amqp_uri():
    """A vhost of its own for each test module, deleted afterwards, so queues and
    messages left by one module never reach another (or the machine's own vhost)."""
    yield from _vhost()


@pytest.fixture(scope="session")
def session_amqp_uri():
    """A vhost for the whole run: the e2e suite shared by the modules that can share it."""
    yield from _vhost()


def _fresh_postgres_database():
    import psycopg2

    name = f"plexus_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{POSTGRES_URL}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_postgres_database()


@pytest.fixture(scope="module")
def postgres_database():
    """The same, kept for a whole module."""
    yield from _fresh_postgres_database()


@pytest.fixture(scope="session")
def session_postgres_database():
    """The same, kept for the whole run (the shared e2e suite runs on it)."""
    yield from _fresh_postgres_database()


@pytest.fixture
def service_config(amqp_uri, tmp_path):
    """nameko config for service containers in this process: the test vhost, SQLite
    files under tmp_path, no metrics listener, quick outbox sweeps."""
    config = {
        "AMQP_URI": amqp_uri,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": None,
        "DATABASE_URLS": {},
        "METRICS_PORTS": {},
        "RPC_TIMEOUT": 5,
        "OUTBOX_SWEEP_INTERVAL": 0.2,
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",
        "GATEWAY": {
            "bootstrap_key": None,
            "max_body_bytes": 1048576,
            "max_batch_body_bytes": 10485760,
            "idempotency_ttl_hours": 24,
        },
    }
    with nameko.config.patch(config, clear=True):
        yield config
