"""What tests do to the real broker from outside, as an operator would."""

from __future__ import annotations

import socket
import subprocess


def close_connection(sock: socket.socket, reason: str = "test: dropped") -> None:
    """The broker closes the connection on `sock` (a restart, a network cut, an
    operator's `rabbitmqctl close_connection`), found by its local port."""
    port = sock.getsockname()[1]
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "peer_port", "pid"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    pid = next(
        line.split()[1]
        for line in listed.splitlines()
        if line.split() and line.split()[0] == str(port)
    )
    subprocess.run(
        ["rabbitmqctl", "-q", "close_connection", pid, reason],
        check=True,
        capture_output=True,
        timeout=30,
    )
