"""Publishing many persistent messages with publisher confirms, pipelined: every message
of a batch goes out, then the broker's confirmations are read for all of them, so a
batch costs one round trip instead of one a message (nameko's Publisher waits for each).
`publish_many` returns only once the broker has confirmed every message, and raises if
it refused one or did not answer in time: the caller keeps its rows and sends them again.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass

import amqp
from kombu import Connection

CONFIRM_TIMEOUT = 10.0


class NotConfirmed(Exception):
    """The broker refused (nack) a message, or did not confirm in time."""


@dataclass(frozen=True)
class Outgoing:
    exchange: str
    routing_key: str
    payload: dict
    message_id: str | None = None
    headers: dict | None = None  # nameko context headers: the trace (plexus.tracing)


class ConfirmedPublisher:
    """One connection and one channel in confirm mode, opened on first use and again
    after a failure; for one green thread at a time (an outbox relay)."""

    def __init__(self, uri: str, declare=(), heartbeat: float | None = None):
        self.uri = uri
        self.declare = list(declare)
        self.heartbeat = heartbeat
        self.connection: Connection | None = None
        self.channel: amqp.Channel | None = None
        self.sent = 0  # delivery tags of this channel: 1, 2, ... in publishing order
        self.confirmed = 0  # every tag up to this one is confirmed
        self.acked_above: set[int] = set()
        self.refused = False

    def publish_many(self, messages: list[Outgoing], timeout: float = CONFIRM_TIMEOUT) -> None:
        if not messages:
            return
        try:
            channel = self._channel()
            with self._one_write():
                for outgoing in messages:
                    channel._basic_publish(
                        _message(outgoing),
                        exchange=outgoing.exchange,
                        routing_key=outgoing.routing_key,
                    )
                    self.sent += 1
            self._await_confirms(self.sent, timeout)
        except BaseException:
            self.close()  # tags and confirmations of a broken channel mean nothing now
            raise

    @contextlib.contextmanager
    def _one_write(self):
        """The frames of every message written to the socket at once, not one system
        call a message: py-amqp writes each frame through its transport's `_write`
        (amqp 5.4.2; re-run tests/interface/test_publishing.py on upgrading it)."""
        assert self.connection is not None  # _one_write wraps publishing on it
        transport = self.connection.connection.transport
        frames: list[bytes] = []
        write = transport._write
        transport._write = lambda data: frames.append(bytes(data))  # a view of a reused buffer
        try:
            yield
        finally:
            transport._write = write
        transport.write(b"".join(frames))

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already gone with the broker
                connection.release()

    def _channel(self) -> amqp.Channel:
        if self.channel is not None:
            return self.channel
        connection = Connection(self.uri, heartbeat=self.heartbeat, connect_timeout=5)
        connection.connect()
        # py-amqp's channel (kombu's pyamqp transport): confirm_select and events are its.
        channel: amqp.Channel = connection.default_channel
        for entity in self.declare:
            entity(channel).declare()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self.connection, self.channel = connection, channel
        self.sent = self.confirmed = 0
        self.acked_above = set()
        self.refused = False
        return channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        # A single ack may come before a lower tag's (confirms of messages routed to
        # different queues): held until the tags below it are confirmed too.
        if multiple:
            self.confirmed = max(self.confirmed, delivery_tag)
            self.acked_above = {tag for tag in self.acked_above if tag > self.confirmed}
        else:
            self.acked_above.add(delivery_tag)
        while self.confirmed + 1 in self.acked_above:
            self.confirmed += 1
            self.acked_above.discard(self.confirmed)

    def _on_nack(self, _delivery_tag: int, _multiple: bool) -> None:
        self.refused = True

    def _await_confirms(self, tag: int, timeout: float) -> None:
        assert self.connection is not None  # published on it a moment ago
        deadline = time.monotonic() + timeout
        while self.confirmed < tag and not self.refused:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotConfirmed(
                    f"the broker confirmed {self.confirmed} of {tag} messages in {timeout:g} s"
                )
            try:
                self.connection.drain_events(timeout=left)
            except TimeoutError:
                continue
        if self.refused:
            raise NotConfirmed("the broker refused a message (nack)")


def _message(outgoing: Outgoing) -> amqp.Message:
    properties = {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
    }
    if outgoing.message_id:
        properties["message_id"] = outgoing.message_id
    if outgoing.headers:
        properties["application_headers"] = outgoing.headers
    return amqp.Message(json.dumps(outgoing.payload), **properties)
