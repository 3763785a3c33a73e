"""A second `plexus run` beside a running one: refused in one line naming the first,
which keeps running. (Before, it started a second set of every service on the same
SQLite files and queues, sharing even the gateway's port through SO_REUSEPORT.)"""

import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PLEXUS, ROOT, free_port, running_suite


@pytest.fixture(scope="module")
def first(amqp_uri, tmp_path_factory):
    yield from running_suite(amqp_uri, tmp_path_factory.mktemp("suite-first"))


def _plain_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("{")]


def test_a_second_run_on_the_same_data_directory_is_refused(first):
    second = first.plexus("run")
    assert second.returncode == 1
    data_dir = Path(first.env["PLEXUS_DATA_DIR"])
    assert _plain_lines(second.stderr) == [
        f"plexus: Plexus is already running on {data_dir} (plexus run, PID "
        f"{first.process.pid}): stop it first, or give this one its own PLEXUS_DATA_DIR"
    ]
    assert second.stdout == ""
    assert first.process.poll() is None
    assert requests.get(first.url + "/ready", timeout=10).status_code == 200


def test_a_second_run_on_the_same_gateway_port_is_refused(first, tmp_path):
    env = {
        **first.env,
        "PLEXUS_DATA_DIR": str(tmp_path / "var"),
        "PLEXUS_GATEWAY_METRICS_PORT": str(free_port()),
    }
    second = subprocess.run(
        [PLEXUS, "run"], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert second.returncode == 1
    port = first.env["PLEXUS_GATEWAY_PORT"]
    assert _plain_lines(second.stderr) == [
        f"plexus: the gateway's address 127.0.0.1:{port} is taken (a Plexus gateway answers "
        "there): stop that one, or set PLEXUS_GATEWAY_PORT"
    ]
    assert not (tmp_path / "var" / "contacts.db").exists()  # nothing migrated
    assert first.process.poll() is None
    assert requests.get(first.url + "/health", timeout=10).status_code == 200
