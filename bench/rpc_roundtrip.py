"""RPC round trip: Plexus's RPC to a running service against raw AMQP request/reply on
the same broker, in one run.

    .venv/bin/python -m bench.rpc_roundtrip --calls 2000

Three paths, each serial (one call waits for the last):
- raw: the `amqp` library both sides (an echo consumer and a client with its own reply
  queue); the floor any RPC on this broker stands on;
- raw client -> nameko service: the same raw client calling the contacts service's
  `ping` (nameko-rpc exchange, routing key contacts.ping), which isolates the serving side;
- plexus client -> nameko service: plexus.rpc.RpcClient (one long-lived connection and
  reply queue) calling `ping`, as the gateway and the services do;
- nameko client -> nameko service: nameko's ClusterRpcClient calling `ping`, for
  reference (a tenth of the calls: it is slow).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import amqp

from bench.harness import arguments, machine, report, temporary_vhost, timed
from bench.raw_amqp import connect, raw_consumer
from plexus.config import PROJECT_ROOT

ECHO_QUEUE = "bench-echo"
PING = b'{"args": [], "kwargs": {}}'  # nameko's RPC body


def start_echo_server(uri: str) -> threading.Event:
    """A raw consumer that answers every request with its own body."""

    def answer(channel, message) -> None:
        channel.basic_publish(
            amqp.Message(message.body, correlation_id=message.correlation_id),
            exchange="",
            routing_key=message.reply_to,
        )
        channel.basic_ack(message.delivery_tag)

    return raw_consumer(uri, ECHO_QUEUE, answer)


class RawClient:
    """Request/reply with the bare `amqp` library: one reply queue, serial calls."""

    def __init__(self, uri: str):
        self.connection = connect(uri)
        self.channel = self.connection.channel()
        self.reply_queue, _, _ = self.channel.queue_declare("", exclusive=True)
        self.answers: dict[str, object] = {}
        self.channel.basic_consume(self.reply_queue, no_ack=True, callback=self._on_reply)

    def _on_reply(self, message) -> None:
        self.answers[message.correlation_id] = message.body

    def bind_for_nameko(self) -> None:
        # nameko answers through its nameko-rpc exchange, keyed by reply_to; declared
        # here with nameko's own arguments, so the order of start-up does not matter.
        self.channel.exchange_declare("nameko-rpc", "topic", durable=True, auto_delete=False)
        self.channel.queue_bind(self.reply_queue, "nameko-rpc", routing_key=self.reply_queue)

    def call(self, exchange: str, routing_key: str, body: bytes, timeout: float = 10) -> object:
        correlation_id = uuid.uuid4().hex
        self.channel.basic_publish(
            amqp.Message(
                body,
                correlation_id=correlation_id,
                reply_to=self.reply_queue,
                content_type="application/json",
            ),
            exchange=exchange,
            routing_key=routing_key,
        )
        while correlation_id not in self.answers:
            self.connection.drain_events(timeout=timeout)
        return self.answers.pop(correlation_id)

    def close(self) -> None:
        self.connection.close()


def start_contacts(uri: str, data_dir: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PLEXUS_AMQP_URI": uri,
        "PLEXUS_DATA_DIR": data_dir,
        "PLEXUS_CONTACTS_METRICS_PORT": "0",
        "PLEXUS_LOG_LEVEL": "WARNING",
        "EVENTLET_TESTS": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "ops.cli", "migrate", "contacts"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(PROJECT_ROOT / "config.yaml"),
            "services.contacts.entrypoints:ContactsService",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_ping(client: RawClient, seconds: float = 30) -> None:
    """Until the service consumes its queue, a request is unroutable and unanswered."""
    client.bind_for_nameko()
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.call("nameko-rpc", "contacts.ping", PING, timeout=0.5)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def measure(uri: str, calls: int) -> dict:
    from nameko.standalone.rpc import ClusterRpcClient

    from plexus.rpc import RpcClient

    stop = start_echo_server(uri)
    raw = RawClient(uri)
    results = {"raw": timed(lambda: raw.call("", ECHO_QUEUE, b"{}"), calls)}
    with tempfile.TemporaryDirectory() as data_dir:
        service = start_contacts(uri, data_dir)
        try:
            wait_for_ping(raw)
            results["raw client -> nameko service"] = timed(
                lambda: raw.call("nameko-rpc", "contacts.ping", PING), calls
            )
            plexus = RpcClient(uri)
            try:
                results["plexus client -> nameko service"] = timed(
                    lambda: plexus.call("contacts", "ping", (), {}, timeout=10), calls
                )
            finally:
                plexus.close()
            with ClusterRpcClient(uri=uri, timeout=10) as cluster:
                results["nameko client -> nameko service"] = timed(
                    cluster.contacts.ping, max(50, calls // 10)
                )
        finally:
            service.terminate()
            service.wait(timeout=20)
            raw.close()
            stop.set()
    return results


def table(calls: int, results: dict) -> str:
    base = results["raw"]["p50"]
    lines = [
        f"RPC round trip, {calls:,} serial calls ({machine()})",
        "",
        "| path | p50 ms | p99 ms | calls/s | p50 / raw |",
        "|---|---|---|---|---|",
    ]
    for path, r in results.items():
        lines.append(
            f"| {path} | {r['p50']:.2f} | {r['p99']:.2f} | {r['per_second']:.0f} "
            f"| {r['p50'] / base:.2f} |"
        )
    lines.append("")
    lines.append(
        "Target (issue 8): plexus client -> nameko service p50 at most 3x raw "
        "(plexus.rpc, what the gateway and the services call with). nameko's own "
        "client, for reference, makes a tenth of the calls."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    options = parser.parse_args(argv)
    with temporary_vhost() as uri:
        results = measure(uri, options.calls)
    text = table(options.calls, results)
    report(
        "RPC round trip",
        text,
        to_results=options.record,
        as_json={"calls": options.calls, "results": results} if options.json else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
