"""Consuming messages reliably. nameko's @event_handler acks a message whose handler
raised and drops it; here each (consumer, source) pair has one durable quorum queue,
declared from plexus.contract.events.SUBSCRIPTIONS before anyone publishes, and a failed
handler is retried with back-off, then parked on a dead-letter queue with its error,
where `plexus deadletters replay` can send it back. Events are consumed in batches
(plexus.event_consumer); a sender's queue one message at a time (RetryingConsumer).
"""

from __future__ import annotations

import logging
import traceback
from collections import OrderedDict

import eventlet
import nameko
from amqp.exceptions import AMQPError
from eventlet.event import Event
from kombu import Connection, Exchange, Queue, binding
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher
from nameko.messaging import Consumer
from nameko.standalone.events import get_event_exchange

from plexus.config import broker_uri
from plexus.contract.events import SUBSCRIPTIONS
from plexus.metrics import service_counter

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
DEAD_LETTER_EXCHANGE = Exchange("plexus.dead-letters", type="direct", durable=True)
# What a broker that went away (restarted, or dropped us for missed heartbeats) raises
# when a finished handler acknowledges its message; nameko catches only part of it.
CONNECTION_LOST = (OSError, AMQPError, OperationalError)


def queue_name(consumer: str, source: str) -> str:
    return f"plexus.events.{source}.{consumer}"


def parking_queue(name: str) -> Queue:
    """The dead-letter queue of the queue `name`."""
    return Queue(
        f"{name}.dead",
        DEAD_LETTER_EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def retrying_queue(name: str, bindings: list, delivery_limit: int) -> Queue:
    """A durable quorum queue whose messages the broker parks on `parking_queue(name)`."""
    return Queue(
        name,
        bindings=bindings,
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-queue-type": "quorum",
            # A safety net for crash loops (a worker killed mid-message every time): the
            # broker parks the message once it was delivered this often.
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
        },
    )


def dead_letter_queue(consumer: str, source: str) -> Queue:
    return parking_queue(queue_name(consumer, source))


def event_queue(consumer: str, source: str) -> Queue:
    events = SUBSCRIPTIONS[consumer][source]
    exchange = get_event_exchange(source)
    return retrying_queue(
        queue_name(consumer, source),
        [binding(exchange, routing_key=event) for event in events],
        MAX_ATTEMPTS * 2,
    )


def declare_topology(amqp_uri: str, subscriptions=None) -> list[str]:
    """Declare every consumer's queue and dead-letter queue (idempotent)."""
    declared = []
    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        for consumer, sources in (subscriptions or SUBSCRIPTIONS).items():
            for source in sources:
                get_event_exchange(source)(channel).declare()
                DEAD_LETTER_EXCHANGE(channel).declare()
                dead_letter_queue(consumer, source)(channel).declare()
                event_queue(consumer, source)(channel).declare()
                declared.append(queue_name(consumer, source))
    return declared


def backoff_seconds(attempt: int) -> float:
    return min(10.0, 0.2 * 2**attempt)


class HandledHere:
    """The messages this process handled, by their id: what the broker delivers again
    after it lost the connection they came on, though their handler went through.

    That happens to every unacknowledged message of a connection the broker drops: after
    a restart, or when a handler held the process (no eventlet yield: a long computation,
    a blocking C call) past two heartbeats, so the connection went silent (nameko issue
    #477). Acknowledging such a message instead of running its handler again keeps a
    long handler from running over and over, each time losing the connection anew, until
    the delivery limit parks it. Only a handler that finished without error counts, so
    nothing is lost; another process, or this one restarted, does not know, which is why
    the handlers stay idempotent by event_id in their own database too."""

    def __init__(self, remembered: int = 10_000):
        self.done: OrderedDict[str, None] = OrderedDict()
        self.running: dict[str, Event] = {}
        self.remembered = remembered

    def started(self, key: str) -> None:
        # One event a key at a time, sent by whichever run of it ends first: replacing
        # it would leave a redelivery waiting on the old one for ever.
        self.running.setdefault(key, Event())

    def finished(self, key: str, ok: bool) -> None:
        if ok:
            self.done[key] = None
            while len(self.done) > self.remembered:
                self.done.popitem(last=False)
        ended = self.running.pop(key, None)
        if ended is not None:
            ended.send(None)

    def known(self, key: str) -> bool:
        return key in self.done or key in self.running

    def wait_and_check(self, key: str) -> bool:
        """True once a run of `key` under way has ended well, or one had before."""
        while (running := self.running.get(key)) is not None:
            running.wait()
        return key in self.done


class RetryingConsumer(Consumer):
    """Entrypoint base: a handler that raised is retried with back-off, and after
    `max_attempts` parked on the dead-letter queue with its error. A subclass sets
    `self.queue` before calling setup(), and `label` (the metric's source label)."""

    label = ""
    metric_name = "plexus_event_retries_total"

    def __init__(self, **kwargs):
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def max_attempts(self) -> int:
        return MAX_ATTEMPTS

    def backoff(self, attempt: int, error: BaseException | None = None) -> float:  # noqa: ARG002 a hook: the senders weigh the error
        """Seconds to wait before the message goes back; `error` is what the handler
        raised (a subclass may read a delay from it)."""
        return backoff_seconds(attempt)

    def setup(self) -> None:
        service = self.container.service_name
        self.dead_letters = Publisher(
            broker_uri(nameko.config),
            exchange=DEAD_LETTER_EXCHANGE,
            serializer="json",
            use_confirms=True,
            declare=[DEAD_LETTER_EXCHANGE, parking_queue(self.queue.name)],
        )
        self.failures = service_counter(
            service,
            self.metric_name,
            "Handlings that failed and were retried or dead-lettered.",
            ["source", "outcome"],
        )
        self.handled = HandledHere()
        super().setup()

    @staticmethod
    def identity(body) -> str | None:
        """What names a message across its deliveries (events carry event_id)."""
        return body.get("event_id") if isinstance(body, dict) else None

    def handle_message(self, body, message):
        key = self.identity(body)
        if key is None:
            super().handle_message(body, message)
        elif self.handled.known(key):
            # Delivered again while or after it was handled here: decided off the
            # consumer's thread, which must keep reading (and heartbeating).
            self.container.spawn_managed_thread(
                lambda: self._again(key, body, message), identifier=f"redelivered[{key}]"
            )
        else:
            self._run(key, body, message)

    def _run(self, key: str, body, message) -> None:
        self.handled.started(key)
        super().handle_message(body, message)

    def _again(self, key: str, body, message) -> None:
        if not self.handled.wait_and_check(key):
            self._run(key, body, message)  # the run under way failed: this is its retry
            return
        log.warning(
            "message %s on %s delivered again after it was handled here (the "
            "connection it came on was lost): acknowledged, not run twice",
            key,
            self.queue.name,
        )
        self._settle(self.consumer.ack_message, message)

    @staticmethod
    def attempt(message) -> int:
        """1 on the first delivery; quorum queues count the redeliveries."""
        return int((message.headers or {}).get("x-delivery-count") or 0) + 1

    def handle_message_processed(self, message, result=None, exc_info=None) -> None:  # noqa: ARG002 nameko's signature
        key = self.identity(message.payload)
        try:
            self._settle_processed(message, exc_info)
        finally:
            if key is not None:
                self.handled.finished(key, ok=exc_info is None)

    def _settle_processed(self, message, exc_info) -> None:
        if exc_info is None:
            self._settle(self.consumer.ack_message, message)
            return
        attempt = self.attempt(message)
        name = self.queue.name
        if attempt >= self.max_attempts():
            error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            parked = self._settle(
                lambda m: self.dead_letters.publish(
                    m.payload,
                    routing_key=name,
                    headers={
                        "x-error": error[:2000],
                        "x-attempts": attempt,
                        "x-original-queue": name,
                    },
                ),
                message,
            )
            if parked and self._settle(self.consumer.ack_message, message):
                self.failures.labels(self.label, "dead_lettered").inc()
                log.error(
                    "message %s on %s dead-lettered after %d attempts: %s",
                    (message.payload or {}).get("event_id"),
                    name,
                    attempt,
                    exc_info[0].__name__,
                )
            return
        self.failures.labels(self.label, "retried").inc()
        eventlet.sleep(self.backoff(attempt, exc_info[1]))
        self._settle(self.consumer.requeue_message, message)

    def _settle(self, action, message) -> bool:
        """Ack, requeue or park a message; False if the broker went away meanwhile. It
        then holds the message as unacknowledged and delivers it again once we are back,
        so there is nothing left to do here; raising would kill the whole container
        (nameko treats an error after a worker as fatal)."""
        try:
            action(message)
            return True
        except CONNECTION_LOST as error:
            log.warning(
                "connection to the broker lost before message %s on %s was "
                "settled (%s): it will be delivered again",
                (message.payload or {}).get("event_id"),
                self.queue.name,
                type(error).__name__,
            )
            leave_to_the_reader(message)
            return False


def leave_to_the_reader(message) -> None:
    """A failed write makes amqp mark its transport disconnected; kombu's consume loop,
    seeing that before its next read, quietly opens a fresh connection to read from, one
    without the consumer's channel on it, and takes nothing more: the service would
    consume nothing until restarted, and say nothing. Left marked connected, the dead
    socket fails the reader's own next read, and kombu reconnects the consumer as it
    does for any lost connection."""
    transport = getattr(getattr(message.channel, "connection", None), "transport", None)
    if transport is not None and transport.sock is not None:
        transport.connected = True


def parked_events(amqp_uri: str, consumer: str, source: str, limit: int = 100) -> list[dict]:
    return peek_parked(amqp_uri, queue_name(consumer, source), limit)


def peek_parked(amqp_uri: str, name: str, limit: int = 100) -> list[dict]:
    """Up to `limit` messages `parking_queue(name)` holds, oldest first, each with the
    error its handler last failed with; they stay parked."""
    found: list[dict] = []
    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        dead = parking_queue(name)(channel)
        dead.declare()
        while len(found) < limit and (message := dead.get(no_ack=False)) is not None:
            headers = message.headers or {}
            found.append(
                {
                    "payload": message.payload,
                    "error": headers.get("x-error"),
                    "attempts": headers.get("x-attempts"),
                }
            )
        # Unacknowledged, they all go back in their order when the channel closes.
        channel.close()
    return found


def replay_dead_letters(amqp_uri: str, consumer: str, source: str, limit: int = 10_000) -> int:
    """Send parked events back to their queue; returns how many."""
    return replay_parked(amqp_uri, queue_name(consumer, source), limit)


def replay_parked(amqp_uri: str, name: str, limit: int = 10_000) -> int:
    """Send what `parking_queue(name)` holds back to the queue `name` (any
    retrying_queue: an event queue, a sender's queue); returns how many."""
    moved = 0
    with Connection(amqp_uri, connect_timeout=5) as connection:
        dead = parking_queue(name)(connection.channel())
        dead.declare()
        producer = connection.Producer()
        while moved < limit:
            message = dead.get(no_ack=False)
            if message is None:
                break
            # The default exchange routes by queue name straight to the consumer's queue.
            producer.publish(
                message.body,
                routing_key=name,
                exchange="",
                content_type=message.content_type,
                content_encoding=message.content_encoding,
            )
            message.ack()
            moved += 1
    return moved
