"""plexus.publishing.ConfirmedPublisher on the real broker: a batch of messages arrives
whole and in order, written and confirmed together, and a connection the broker closed
is made again on the next batch (the relay keeps its rows meanwhile)."""

import time

import pytest
from kombu import Connection, Exchange, Queue

from plexus.publishing import ConfirmedPublisher, Outgoing
from tests.broker import close_connection

EXCHANGE = Exchange("publishing-test", type="topic", durable=True)
QUEUE = Queue("publishing-test", EXCHANGE, routing_key="#", durable=True)


def received(amqp_uri: str, count: int) -> list[dict]:
    """Take `count` messages off the queue (acknowledged), waiting up to 10 s."""
    taken: list[dict] = []
    deadline = time.monotonic() + 10
    with Connection(amqp_uri) as connection:
        queue = QUEUE(connection.channel())
        while len(taken) < count and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            taken.append(
                {
                    "body": message.payload,
                    "key": message.delivery_info["routing_key"],
                    "id": message.properties.get("message_id"),
                    "persistent": message.properties.get("delivery_mode") == 2,
                }
            )
    return taken


def batch(first: int, count: int) -> list[Outgoing]:
    return [
        Outgoing(EXCHANGE.name, f"event_{n % 3}", {"n": n}, message_id=f"m{n}")
        for n in range(first, first + count)
    ]


@pytest.fixture
def publisher(amqp_uri):
    kept = ConfirmedPublisher(amqp_uri, declare=[EXCHANGE, QUEUE])
    yield kept
    kept.close()


def test_a_batch_arrives_whole_in_order_persistent(amqp_uri, publisher):
    publisher.publish_many(batch(0, 2000))
    assert publisher.confirmed == publisher.sent == 2000  # every one confirmed on return
    got = received(amqp_uri, 2000)
    assert [m["body"]["n"] for m in got] == list(range(2000))
    assert got[7] == {"body": {"n": 7}, "key": "event_1", "id": "m7", "persistent": True}


def test_a_connection_the_broker_closed_is_made_again(amqp_uri, publisher):
    publisher.publish_many(batch(0, 10))
    close_connection(publisher.connection.connection.sock)
    time.sleep(0.5)
    try:
        publisher.publish_many(batch(10, 10))  # may notice the closed connection only now
    except Exception:
        publisher.publish_many(batch(10, 10))  # what the relay does: the same rows again
    got = [m["body"]["n"] for m in received(amqp_uri, 20)]
    assert sorted(set(got)) == list(range(20))  # nothing lost (a resend may repeat some)
