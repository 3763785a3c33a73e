"""A RabbitMQ node of the test's own, to stop and start under the suite while the
machine's shared broker (other tests, CI, people) keeps running.

Everything the node reads or writes is under one directory: its Mnesia data, logs, pid
file, an empty plugins file (no management listener to clash with the shared node's), an
empty config (/etc/rabbitmq/rabbitmq.conf would bind the shared node's port) and the
Erlang cookie, in a HOME of its own. The scripts are run directly rather than through
/usr/sbin's wrappers, which would switch to the rabbitmq user (who cannot read the
test's tmp_path) and to the shared node's cookie."""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

SBIN = Path("/usr/lib/rabbitmq/bin")


def unused_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999): a port the kernel may
    also hand out as the source of an outgoing connection (rabbitmqctl's own, during the
    node's boot) can be taken just before the node listens on it, and boot fails with
    eaddrinuse."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class RabbitNode:
    def __init__(self, base: Path):
        self.base = base
        self.name = f"plexus-fault-{secrets.token_hex(4)}@localhost"
        self.port = unused_port()
        self.process: subprocess.Popen | None = None
        home = base / "home"
        home.mkdir(parents=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)  # Erlang refuses a cookie others can read
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text("")
        (base / "rabbitmq-env.conf").write_text("")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL"))},
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(unused_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),  # .conf is added
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def amqp_uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SBIN / "rabbitmqctl"), "-q", "-n", self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, seconds: float = 60) -> RabbitNode:
        with open(self.base / "server.out", "ab") as out:
            self.process = subprocess.Popen(
                [str(SBIN / "rabbitmq-server")],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + seconds
        # await_startup fails at once while the node has not registered with epmd yet.
        while self.ctl("await_startup", "--timeout", "30").returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "the private RabbitMQ node did not start:\n"
                    + (self.base / "server.out").read_text()[-3000:]
                )
            time.sleep(0.3)
        return self

    def stop_app(self) -> None:
        """The broker goes away: every client connection is closed, the port refuses."""
        result = self.ctl("stop_app")
        assert result.returncode == 0, result.stderr

    def start_app(self) -> None:
        result = self.ctl("start_app")
        assert result.returncode == 0, result.stderr

    def consumers(self) -> dict[str, int]:
        """Consumers of each queue, by queue name."""
        result = self.ctl("list_queues", "name", "consumers", "--no-table-headers")
        assert result.returncode == 0, result.stderr
        return {
            name: int(count)
            for name, count in (
                line.split("\t") for line in result.stdout.splitlines() if "\t" in line
            )
        }

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.ctl("stop", timeout=30)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only this node
            self.process.wait()
