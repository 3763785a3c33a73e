"""The suite as a user runs it: `plexus run` in a child process, on its own vhost,
ports and data, driven over HTTP with a real client."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PLEXUS = str(Path(sys.executable).with_name("plexus"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Suite:
    url: str
    key: str
    env: dict
    process: subprocess.Popen
    log: Path

    def http(self, key: str | None = None) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key or self.key}"
        return session

    def plexus(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PLEXUS, *args], env=self.env, capture_output=True, text=True,
                              timeout=60, cwd=ROOT)


def suite_env(amqp_uri: str, data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXUS_")}
    env.update({
        "PLEXUS_AMQP_URI": amqp_uri,
        "PLEXUS_DATA_DIR": str(data_dir),
        "PLEXUS_GATEWAY_PORT": str(free_port()),
        "PLEXUS_GATEWAY_METRICS_PORT": str(free_port()),
        "PLEXUS_CONTACTS_METRICS_PORT": str(free_port()),
        "PLEXUS_MESSAGING_METRICS_PORT": str(free_port()),
        **{f"PLEXUS_SENDER_{channel}_METRICS_PORT": str(free_port())
           for channel in ("EMAIL", "SMS", "TELEGRAM", "VIBER", "WEBPUSH")},
        # Senders write into the suite's data dir (the outbox provider), never the repo.
        "PLEXUS_OUTBOX_DIR": str(data_dir / "outbox"),
        "PLEXUS_ACTIVITY_METRICS_PORT": str(free_port()),
        "PLEXUS_SEGMENTS_METRICS_PORT": str(free_port()),
        "PLEXUS_BOOTSTRAP_KEY": "plx_" + secrets.token_urlsafe(32),
        "PLEXUS_LOG_FORMAT": "json",
    })
    if database_url:
        env["PLEXUS_DATABASE_URL"] = database_url
    return env


def start_suite(env: dict, log: Path, *args: str, wait_for: str = "/ready") -> Suite:
    url = f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}"
    with open(log, "wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([PLEXUS, "run", *args], env=env, cwd=ROOT, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    suite = Suite(url, env["PLEXUS_BOOTSTRAP_KEY"], env, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plexus run exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url + wait_for, timeout=2).status_code == 200:
                return suite
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or /ready still waiting on a service starting
        time.sleep(0.25)
    stop_suite(suite)
    raise RuntimeError(f"the suite did not get ready in 60 s:\n{log.read_text()}")


def stop_suite(suite: Suite) -> None:
    if suite.process.poll() is None:
        suite.process.send_signal(signal.SIGINT)
        try:
            suite.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(suite.process.pid, signal.SIGKILL)
            suite.process.wait()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path_factory):
    """The whole suite, once on the embedded SQLite default and once on PostgreSQL."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    data_dir = tmp_path_factory.mktemp(f"suite-{request.param}")
    env = suite_env(amqp_uri, data_dir, database_url)
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]
