"""A sender's provider rate limit holds for all its processes together: two email sender
processes (and two messaging processes answering their claims, on PostgreSQL) with
`rate_limit` 10 send 120 queued emails, and the provider never gets more than the limit
and its burst in any window (give or take how much the sends' own latency varies), while
each sender process does its share.

The provider is the outbox one: each send writes <outbox>/email/<contact>/<message>.json,
and the file's time is the moment of the provider call."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import amqp.exceptions
import requests
from kombu import Connection

from ops import runner
from plexus.config import PROJECT_ROOT
from plexus.suite import SERVICES
from services.messaging import queues
from tests.e2e.conftest import (
    free_port,
    metric,
    start_suite,
    stop_process,
    stop_suite,
    suite_env,
)
from tests.polling import wait_for

# Sends a second, for the sender as a whole: low enough that a loaded CI machine (25-30
# sends a second here with other suites running) still reaches it, so sends do wait.
LIMIT = 10
BURST = LIMIT  # one second's worth (services/messaging/logic/rate_buckets.py)
MESSAGES = 120
# The bucket spaces the sends' slots; the provider sees each send later than its slot by
# the claim's own path (RPCs, the contacts look-up, the write), and when that delay
# varies, sends bunch up: a window holds up to LIMIT x the spread more. Half a second
# covers a loaded CI machine; a limit per process breaks the bounds by far (twice the
# rate: 100 and more in 5 s against 65).
SPREAD = 0.5


def start_sender(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """One more email sender process, with a /metrics port of its own."""
    port = str(free_port())
    child = runner.child_environment("sender_email", PROJECT_ROOT / "config.yaml", env)
    child["PLEXUS_SENDER_EMAIL_METRICS_PORT"] = port
    command = runner.nameko_command(PROJECT_ROOT / "config.yaml", SERVICES["sender_email"])
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            command,
            env=child,
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, port


def answering(url: str, services: tuple[str, ...]) -> bool:
    """Whether those services answer the gateway's ping (/status lists each)."""
    pinged = requests.get(url + "/status", timeout=15).json()["services"]
    return all(pinged.get(service) == "ok" for service in services)


def queued(amqp_uri: str) -> int:
    """Emails waiting in the email senders' queue (messaging declares it)."""
    with Connection(amqp_uri) as connection:
        queue = queues.sender_queue("email")(connection.channel())
        try:
            return queue.queue_declare(passive=True).message_count
        except amqp.exceptions.NotFound:  # until messaging has declared it
            return 0


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most provider calls in any `seconds`-long window (each starting at a call)."""
    return max(
        sum(1 for later in times[first:] if later - start < seconds)
        for first, start in enumerate(times)
    )


def test_two_sender_processes_stay_within_one_limit(amqp_uri, tmp_path, postgres_url):
    env = suite_env(amqp_uri, tmp_path, postgres_url)
    env.update(
        {
            "PLEXUS_OUTBOX_RATE_LIMIT": str(LIMIT),
            "PLEXUS_SEND_RATE_LIMIT_PER_SECOND": "1000",
            "PLEXUS_SEND_RATE_LIMIT_BURST": "1000",
        }
    )
    only = ("gateway", "contacts", "messaging")
    suite = start_suite(
        env,
        tmp_path / "suite.log",
        *(arg for name in only for arg in ("--only", name)),
        "--scale",
        "messaging=2",
        wait_for="/health",
    )
    senders: list[tuple[subprocess.Popen, str]] = []
    try:
        wait_for(lambda: answering(suite.url, only[1:]), 30, "contacts and messaging")
        http = suite.http()
        people = [{"email": f"limit{n}@example.com"} for n in range(MESSAGES)]
        made = http.post(suite.url + "/v1/contacts/batch", json={"contacts": people}, timeout=60)
        assert made.status_code == 200, made.text

        def send(result: dict) -> None:
            body = {
                "contact": {"id": result["id"]},
                "channel": "email",
                "content": {"subject": "Limit", "text": "Hello"},
            }
            answer = http.post(suite.url + "/v1/messages", json=body, timeout=30)
            assert answer.status_code == 202, answer.text

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, made.json()["results"]))
        # Every email waits in the queue before the senders start: a limit per process
        # would show at once (each process's burst, then each its own rate).
        deadline = time.monotonic() + 30
        while (waiting := queued(amqp_uri)) < MESSAGES:
            assert time.monotonic() < deadline, f"{waiting} of {MESSAGES} emails queued"
            time.sleep(0.2)
        senders += [start_sender(env, tmp_path / f"sender{n}.log") for n in (1, 2)]

        sent = Path(env["PLEXUS_OUTBOX_DIR"]) / "email"
        deadline = time.monotonic() + 30
        while len(files := list(sent.glob("*/*.json"))) < MESSAGES:
            assert time.monotonic() < deadline, f"{len(files)} of {MESSAGES} emails sent"
            time.sleep(0.2)
        times = sorted(path.stat().st_mtime for path in files)

        # The limit and its burst, for the two processes together: never twice the limit
        # as a limit of each process's own would allow.
        for seconds in (1.0, 5.0):
            assert most_in_any_window(times, seconds) <= LIMIT * (seconds + SPREAD) + BURST
        # And not slower than the limit allows: after the burst, one send each 1/LIMIT s.
        assert times[-1] - times[0] <= (MESSAGES - BURST) / LIMIT + 3
        shares = [
            metric(port, "plexus_sender_messages_total", outcome="sent") for _, port in senders
        ]
        assert sum(shares) == MESSAGES and min(shares) > 0, shares
        waited = [metric(port, "plexus_rate_limit_wait_seconds_total") for _, port in senders]
        assert min(waited) > 0, waited
    finally:
        for process, _ in senders:
            stop_process(process)
        stop_suite(suite)
