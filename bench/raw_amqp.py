"""The bare `amqp` library, for the baselines: a connection, and a consumer in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

import amqp
from kombu.utils.url import parse_url


def connect(uri: str) -> amqp.Connection:
    parts = parse_url(uri)
    connection = amqp.Connection(
        host=f"{parts['hostname']}:{parts['port'] or 5672}",
        userid=parts["userid"],
        password=parts["password"],
        virtual_host=parts["virtual_host"] or "/",
    )
    connection.connect()
    return connection


def raw_consumer(
    uri: str, queue: str, handle: Callable[[amqp.Channel, amqp.Message], None]
) -> threading.Event:
    """Consumes `queue` (declared here) in a thread, `handle(channel, message)` each
    message, until the returned event is set."""
    ready, stop = threading.Event(), threading.Event()

    def serve() -> None:
        connection = connect(uri)
        channel = connection.channel()
        channel.queue_declare(queue, auto_delete=True)
        channel.basic_consume(queue, callback=lambda message: handle(channel, message))
        ready.set()
        while not stop.is_set():
            try:
                connection.drain_events(timeout=0.2)
            except TimeoutError:
                continue
            except amqp.exceptions.AMQPError:  # the vhost went away at the end
                return
        connection.close()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    return stop
