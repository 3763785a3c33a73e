"""Consuming events reliably. nameko's @event_handler acks a message whose handler
raised and drops it (NAMEKO-NOTES.md); here each (consumer, source) pair has one durable
quorum queue, declared from plexus.contract.events.SUBSCRIPTIONS before anyone publishes,
and a failed handler is retried with back-off, then parked on a dead-letter queue with
its error, where `plexus deadletters replay` can send it back.

    class ActivityService:
        @on_events("contacts")
        def on_contact_event(self, payload): ...   # payload["event"] says which
"""

from __future__ import annotations

import logging
import traceback

import eventlet
import nameko
from kombu import Connection, Exchange, Queue, binding
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI
from nameko.messaging import Consumer
from nameko.standalone.events import get_event_exchange

from plexus.contract.events import SUBSCRIPTIONS
from plexus.metrics import counter

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
DEAD_LETTER_EXCHANGE = Exchange("plexus.dead-letters", type="direct", durable=True)


def queue_name(consumer: str, source: str) -> str:
    return f"plexus.events.{source}.{consumer}"


def dead_letter_queue(consumer: str, source: str) -> Queue:
    name = queue_name(consumer, source)
    return Queue(f"{name}.dead", DEAD_LETTER_EXCHANGE, routing_key=name, durable=True,
                 queue_arguments={"x-queue-type": "quorum"})


def event_queue(consumer: str, source: str) -> Queue:
    events = SUBSCRIPTIONS[consumer][source]
    name = queue_name(consumer, source)
    exchange = get_event_exchange(source)
    return Queue(
        name, bindings=[binding(exchange, routing_key=event) for event in events],
        durable=True, auto_delete=False,
        queue_arguments={
            "x-queue-type": "quorum",
            # A safety net for crash loops (a worker killed mid-message every time): the
            # broker parks the message once it was delivered this often.
            "x-delivery-limit": MAX_ATTEMPTS * 2,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
        },
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
    return min(10.0, 0.2 * 2 ** attempt)


class EventConsumer(Consumer):
    """Entrypoint: every event a service consumes from one source, in one queue."""

    def __init__(self, source: str, **kwargs):
        self.source = source
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self) -> None:
        consumer = self.container.service_name
        self.queue = event_queue(consumer, self.source)
        self.dead_letters = Publisher(
            nameko.config.get(AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI),
            exchange=DEAD_LETTER_EXCHANGE, serializer="json", use_confirms=True,
            declare=[DEAD_LETTER_EXCHANGE, dead_letter_queue(consumer, self.source)],
        )
        self.failures = counter(
            f"plexus_{consumer}_event_retries_total",
            "Event handlings that failed and were retried or dead-lettered.",
            ["source", "outcome"])
        super().setup()

    def handle_message_processed(self, message, result=None, exc_info=None) -> None:
        if exc_info is None:
            self.consumer.ack_message(message)
            return
        attempt = int((message.headers or {}).get("x-delivery-count") or 0) + 1
        name = queue_name(self.container.service_name, self.source)
        if attempt >= MAX_ATTEMPTS:
            error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            self.dead_letters.publish(
                message.payload, routing_key=name,
                headers={"x-error": error[:2000], "x-attempts": attempt,
                         "x-original-queue": name})
            self.consumer.ack_message(message)
            self.failures.labels(self.source, "dead_lettered").inc()
            log.error("event %s dead-lettered after %d attempts: %s",
                      (message.payload or {}).get("event_id"), attempt, exc_info[0].__name__)
            return
        self.failures.labels(self.source, "retried").inc()
        eventlet.sleep(backoff_seconds(attempt))
        self.consumer.requeue_message(message)


on_events = EventConsumer.decorator


def replay_dead_letters(amqp_uri: str, consumer: str, source: str, limit: int = 10_000) -> int:
    """Send parked events back to their queue; returns how many."""
    name = queue_name(consumer, source)
    moved = 0
    with Connection(amqp_uri, connect_timeout=5) as connection:
        dead = dead_letter_queue(consumer, source)(connection.channel())
        dead.declare()
        producer = connection.Producer()
        while moved < limit:
            message = dead.get(no_ack=False)
            if message is None:
                break
            # The default exchange routes by queue name straight to the consumer's queue.
            producer.publish(message.body, routing_key=name, exchange="",
                             content_type=message.content_type,
                             content_encoding=message.content_encoding)
            message.ack()
            moved += 1
    return moved
