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
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from plexus.consumer import queue_name
from plexus.contract.events import SUBSCRIPTIONS
from tests.polling import wait_for

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
        return subprocess.run(
            [PLEXUS, *args], env=self.env, capture_output=True, text=True, timeout=60, cwd=ROOT
        )


def running_fake_providers(directory: Path):
    """tests/fake_providers.py in a child process on free ports, writing what it receives
    under `directory`, for as long as the generator is not closed (a fixture's body:
    `yield from running_fake_providers(...)`): {"dir", "smtp_port", "http"}."""
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_providers",
            "--dir",
            str(directory),
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 20
    while not (directory / "ready").exists():
        assert process.poll() is None and time.monotonic() < deadline, "fakes did not start"
        time.sleep(0.05)
    yield {"dir": directory, "smtp_port": smtp_port, "http": f"http://127.0.0.1:{http_port}"}
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)


def suite_env(amqp_uri: str, data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXUS_")}
    env.update(
        {
            "PLEXUS_AMQP_URI": amqp_uri,
            "PLEXUS_DATA_DIR": str(data_dir),
            "PLEXUS_GATEWAY_PORT": str(free_port()),
            "PLEXUS_GATEWAY_METRICS_PORT": str(free_port()),
            "PLEXUS_CONTACTS_METRICS_PORT": str(free_port()),
            "PLEXUS_MESSAGING_METRICS_PORT": str(free_port()),
            **{
                f"PLEXUS_SENDER_{channel}_METRICS_PORT": str(free_port())
                for channel in ("EMAIL", "SMS", "TELEGRAM", "VIBER", "WEBPUSH", "APP_PUSH")
            },
            # Senders write into the suite's data dir (the outbox provider), never the repo.
            "PLEXUS_OUTBOX_DIR": str(data_dir / "outbox"),
            # The suite's clock, which a test may move ahead (plexus/clock.py): absent,
            # it is the real time.
            "PLEXUS_CLOCK_FILE": str(data_dir / "clock"),
            "PLEXUS_ACTIVITY_METRICS_PORT": str(free_port()),
            "PLEXUS_SEGMENTS_METRICS_PORT": str(free_port()),
            "PLEXUS_CAMPAIGNS_METRICS_PORT": str(free_port()),
            # Workflows' birthday checks each second, not each minute: a test moves the
            # clock over a local midnight and waits for the runs.
            "PLEXUS_CAMPAIGNS_DATE_CHECK_SECONDS": "1",
            "PLEXUS_BOOTSTRAP_KEY": "plx_" + secrets.token_urlsafe(32),
            "PLEXUS_LOG_FORMAT": "json",
        }
    )
    if database_url:
        env["PLEXUS_DATABASE_URL"] = database_url
    return env


def start_suite(env: dict, log: Path, *args: str, wait_for: str = "/status") -> Suite:
    url = f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}"
    with open(log, "wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [PLEXUS, "run", *args],
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    suite = Suite(url, env["PLEXUS_BOOTSTRAP_KEY"], env, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plexus run exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url + wait_for, timeout=2).status_code == 200:
                return suite
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or /status still waiting on a service starting
        time.sleep(0.25)
    stop_suite(suite)
    raise RuntimeError(f"the suite did not get ready in 60 s:\n{log.read_text()}")


def wait_until_idle(suite: Suite, seconds: float = 120) -> None:
    """Until no event waits in any consumer's queue: a test that times how fast an event
    takes effect must not wait behind the backlog another module's test left (an import)."""
    queues = [
        queue_name(consumer, source)
        for consumer, sources in SUBSCRIPTIONS.items()
        for source in sources
    ]
    deadline = time.monotonic() + seconds
    with Connection(suite.env["PLEXUS_AMQP_URI"]) as connection:
        channel = connection.channel()
        while waiting := sum(
            channel.queue_declare(name, passive=True).message_count for name in queues
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{waiting} events still queued after {seconds:g} s")
            time.sleep(0.2)


def sent_item(suite: Suite, http: requests.Session, contact_id: str, channel: str = "email"):
    """The `sent` item of the contact's feed on that channel, once activity has it."""
    feed = f"{suite.url}/v1/contacts/{contact_id}/activity?channel={channel}"
    return wait_for(
        lambda: next(
            (i for i in http.get(feed, timeout=15).json()["data"] if i["type"] == "sent"), None
        ),
        30,
        f"a sent {channel} item in {contact_id}'s feed",
    )


def stop_process(process: subprocess.Popen, seconds: float = 20) -> None:
    """Ctrl-C to a child started in a session of its own; killed with its children if
    it has not stopped within `seconds`."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop_suite(suite: Suite) -> None:
    stop_process(suite.process)


def metric(port: str | int, name: str, **labels) -> float:
    """The sum of the samples of `name` carrying those labels on a process's /metrics."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def running_suite(
    amqp_uri: str, data_dir: Path, database_url: str | None = None, *args: str, settings=None
):
    """A suite on `data_dir` for as long as the generator is not closed (a fixture's
    body: `yield from running_suite(...)`); it must stop cleanly. `settings(env)` gives
    variables to set beyond suite_env's (it may read the ports chosen there)."""
    env = suite_env(amqp_uri, data_dir, database_url)
    env.update(settings(env) if settings else {})
    running = start_suite(env, data_dir / "suite.log", *args)
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


def _running_suite(request, amqp_uri: str, database_fixture: str, tmp_path_factory):
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue(database_fixture)
    yield from running_suite(
        amqp_uri, tmp_path_factory.mktemp(f"suite-{request.param}"), database_url
    )


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def suite(request, session_amqp_uri, tmp_path_factory):
    """The whole suite, once on the embedded SQLite default and once on PostgreSQL,
    shared by every e2e module that uses it (starting one costs ~10 s of two cores).
    Tests that share it make their own data (unique names) and read only that."""
    yield from _running_suite(
        request, session_amqp_uri, "session_postgres_database", tmp_path_factory
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def own_suite(request, amqp_uri, tmp_path_factory):
    """A suite for one module: for tests whose data would get in others' way (the fuzz)."""
    yield from _running_suite(request, amqp_uri, "postgres_database", tmp_path_factory)
