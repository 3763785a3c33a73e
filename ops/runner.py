"""What `plexus run` does, as plain pieces: claim the data directory and the gateway's
port, check the broker, start every service as a `nameko run` child process, watch them,
and stop them all together.

Children get a process group of their own, so a Ctrl-C at the terminal reaches only
this supervisor, which then stops each child once, in a known order."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import amqp
from kombu import Connection

from plexus.private_files import private_dir

BROKER_HINT = "Start one: 'rabbitmq-server -detached' or 'docker compose up -d rabbitmq'"
LOCK_FILE = "plexus-run.lock"


class AlreadyRunning(Exception):
    """Another suite holds the data directory or the gateway's port; the message says
    which, in one line."""


class DataDirLock:
    """One `plexus run` per data directory: a second one would start a second set of
    every service on the same SQLite files and queues. An flock on DATA_DIR/plexus-run.lock,
    which holds the PID of the holder; the kernel lets go when that process ends, however
    it ends, so a crash leaves nothing to clean up. Children do not inherit it."""

    def __init__(self, data_dir: Path | str):
        self.path = Path(data_dir) / LOCK_FILE
        self.handle: TextIO | None = None

    def acquire(self) -> DataDirLock:
        private_dir(self.path.parent)  # the data directory: owner-only when made here
        handle = open(self.path, "a+")  # noqa: SIM115 (held until release())
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"Plexus is already running on {self.path.parent} (plexus run, PID "
                f"{holder}): stop it first, or give this one its own PLEXUS_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            self.handle.truncate(0)
            self.handle.close()  # closing lets go of the flock
            self.handle = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def check_port_free(address: str) -> None:
    """Raise AlreadyRunning when something listens on the gateway's `host:port`. Needed
    beside the lock: eventlet's listener sets SO_REUSEPORT, so a second gateway on the
    same port (from another data directory) would share it silently, not fail."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores connections in TIME_WAIT, never a listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
            return
        except OSError as error:
            if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                return  # an address this machine lacks: the gateway will say so itself
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    who = "a Plexus gateway answers there" if http_ok(f"{url}/health") else "another program has it"
    raise AlreadyRunning(
        f"the gateway's address {address} is taken ({who}): stop that "
        "one, or set PLEXUS_GATEWAY_PORT"
    )


def check_broker(uri: str, timeout: float = 3.0) -> str | None:
    """None when an AMQP broker at `uri` accepts a login, else one line saying what is
    wrong (never the password)."""
    parsed = Connection(uri)  # only parses: kombu connects lazily
    secure = bool(parsed.ssl) or uri.startswith(("amqps:", "pyamqps:"))
    where = f"{parsed.hostname or 'localhost'}:{parsed.port or (5671 if secure else 5672)}"
    connection = amqp.Connection(
        host=where,
        userid=parsed.userid,
        password=parsed.password,
        virtual_host=parsed.virtual_host or "/",
        ssl=secure,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
    )
    try:
        connection.connect()
        connection.close()
        return None
    except amqp.exceptions.AccessRefused:
        return (
            f"RabbitMQ at {where} refused user '{parsed.userid}': check the credentials "
            "in PLEXUS_AMQP_URI"
        )
    except amqp.exceptions.NotAllowed:
        return (
            f"RabbitMQ at {where} does not let user '{parsed.userid}' into virtual host "
            f"'{parsed.virtual_host}' (PLEXUS_AMQP_URI)"
        )
    except (OSError, amqp.exceptions.AMQPError) as error:
        # Refused, timed out, unknown host, or something else on the port (a half-spoken
        # handshake ends in a socket timeout or an AMQP framing error).
        plain = isinstance(error, ConnectionRefusedError | TimeoutError)
        detail = "" if plain else f" ({type(error).__name__}: {error})"
        return f"no RabbitMQ answers at {where}{detail} (PLEXUS_AMQP_URI). {BROKER_HINT}"
    finally:
        connection.collect()  # the socket, whatever happened; a no-op after close()


def nameko_command(config_file: Path | str, service_class: str) -> list[str]:
    """`nameko run` for one service: it monkey-patches with eventlet before importing the
    service and applies config.yaml's LOGGING."""
    return [sys.executable, "-m", "nameko", "run", "--config", str(config_file), service_class]


def replicas(names: Sequence[str], scale: Mapping[str, int]) -> dict[str, str]:
    """The children to start, each named, with the service it runs: `activity`, and
    `activity.2`, `activity.3`... for the processes `scale` asks for beyond the first."""
    children = {}
    for name in names:
        children[name] = name
        for n in range(2, scale.get(name, 1) + 1):
            children[f"{name}.{n}"] = name
    return children


def child_environment(
    service: str,
    config_file: Path | str,
    base: Mapping[str, str] | None = None,
    replica: bool = False,
) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["PLEXUS_SERVICE"] = service  # plexus.logs puts it on every log line
    # A broker user of its own (scripts/rabbitmq-users.sh), if one is given; the
    # supervisor keeps PLEXUS_AMQP_URI (the admin's) for the broker check and migrate.
    own_broker_user = env.get(f"PLEXUS_{service.upper()}_AMQP_URI")
    if own_broker_user:
        env["PLEXUS_AMQP_URI"] = own_broker_user
    env["PLEXUS_CONFIG"] = str(config_file)
    if replica:
        # One /metrics port a service on this machine: the first process serves it.
        env[f"PLEXUS_{service.upper()}_METRICS_PORT"] = "0"
    # eventlet 0.41 prints a nine-line deprecation notice on import (nameko #785) before
    # logging is set up, which would break one-JSON-object-a-line; this variable is the
    # only switch it has, and silencing that notice is all it does.
    env.setdefault("EVENTLET_TESTS", "1")
    return env


def _die_with_parent() -> None:
    """Runs in the child before exec: Linux sends it SIGTERM if the supervisor dies
    without stopping it (kill -9, OOM), so no orphan keeps the ports."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: no such safety net
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Supervisor:
    """Starts named commands as child processes and stops them all together.

    `commands` maps a name to an argv; `environments` (optional) maps a name to the
    environment of that child. Children are started in order and stopped in reverse
    (the gateway, last to start, is first to stop taking requests)."""

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        *,
        environments: Mapping[str, Mapping[str, str]] | None = None,
        cwd: Path | str | None = None,
        stop_timeout: float = 10.0,
        say: Callable[[str], None] = print,
    ):
        self.commands = dict(commands)
        self.environments = dict(environments or {})
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.say = say
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        for name, argv in self.commands.items():
            self.processes[name] = subprocess.Popen(
                list(argv),
                cwd=self.cwd,
                env=self.environments.get(name),
                process_group=0,
                preexec_fn=_die_with_parent,
            )

    def exited(self) -> tuple[str, int] | None:
        """The first child that is no longer running, with its exit code."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                return name, code
        return None

    def wait(self, interval: float = 0.2) -> tuple[str, int]:
        """Block until some child exits; that child's name and exit code."""
        while True:
            ended = self.exited()
            if ended:
                return ended
            time.sleep(interval)

    def stop(self) -> dict[str, int]:
        """SIGTERM every running child, give them stop_timeout seconds together, then
        SIGKILL the rest. A second Ctrl-C while waiting kills at once. Exit codes by name."""
        running = [(n, p) for n, p in reversed(self.processes.items()) if p.poll() is None]
        if running:
            self.say(f"plexus: stopping {', '.join(name for name, _ in running)}")
        for _, process in running:
            process.send_signal(signal.SIGTERM)  # a no-op if it has just ended
        deadline = time.monotonic() + self.stop_timeout
        try:
            for name, process in running:
                try:
                    process.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.say(
                        f"plexus: {name} did not stop within {self.stop_timeout:g} s; killing it"
                    )
        except (KeyboardInterrupt, StopRequested):
            self.say("plexus: killing what is still running")
        for _, process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        return {name: process.returncode for name, process in self.processes.items()}


class StopRequested(Exception):
    """SIGTERM arrived: stop like on Ctrl-C."""


def _raise_stop(_signum, _frame):
    raise StopRequested


def gateway_url(config: Mapping) -> str:
    """Where the gateway's WEB_SERVER_ADDRESS can be reached from this machine."""
    address = str(config.get("WEB_SERVER_ADDRESS") or "127.0.0.1:8000")
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"  # listening on every interface: loopback is one of them
    return f"http://{host}:{port}"


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_healthy(
    url: str, supervisor: Supervisor, timeout: float = 30.0, interval: float = 0.5
) -> bool:
    """Poll `url` until it answers 2xx; False on timeout or when a child has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.exited() or http_ok(url):
            return supervisor.exited() is None
        time.sleep(interval)
    return False


def run_foreground(supervisor: Supervisor, on_started: Callable[[], None] | None = None) -> int:
    """Start the children, call `on_started` (the health banner), then wait. Ctrl-C or
    SIGTERM stops everything and returns 0; a child that dies on its own stops the rest
    and returns 1."""
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        supervisor.start()
        if on_started is not None:
            on_started()
        name, code = supervisor.wait()
        supervisor.say(f"plexus: {name} exited unexpectedly ({_describe(code)}); stopping the rest")
        return 1
    except (KeyboardInterrupt, StopRequested):
        return 0
    finally:
        supervisor.stop()
        signal.signal(signal.SIGTERM, previous)


def _describe(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
