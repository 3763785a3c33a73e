"""A TCP proxy the tests can cut and restore, to take a server away from the services
without stopping it for everyone else on the machine."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class CuttableProxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> CuttableProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                listener.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except (OSError, EOFError):  # EOFError: eventlet's socket closed under recv
            pass
        finally:
            # A socket is closed only by the green thread reading it: closed under another
            # reader, eventlet keeps that reader's registration, and the next file opened
            # with the same number (a test's subprocess pipe) fails with "Second
            # simultaneous read". Shutting down wakes the other pump, which closes its own.
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                source.close()

    def cut(self) -> None:
        """New connections are refused and open ones are dropped (their pumps and the
        accepting thread wake up and close them: see _pump)."""
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener = None
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    def restore(self) -> None:
        # The old listener is closed by its accepting thread; until that ran, the port
        # is still taken.
        for _ in range(100):
            try:
                self.start()
                return
            except OSError:
                time.sleep(0.01)
        self.start()
