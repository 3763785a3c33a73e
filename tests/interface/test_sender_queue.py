"""A channel sender on the real broker: it retries a failing provider with back-off
and sends once, parks a message that always fails on its dead-letter queue with the
error (from where it can be replayed), and a sender killed mid-batch and started
again sends nothing twice except what was in flight at the kill (the provider had it,
the report had not landed)."""

import collections

import eventlet
import nameko
import pytest
from eventlet.event import Event
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.rpc import rpc

from plexus.consumer import replay_parked
from services.messaging import queues
from services.messaging.senders import base
from services.messaging.senders.email import EmailSender
from services.messaging.senders.providers import TemporaryFailure


class FakeProvider:
    name = "fake"

    def __init__(self):
        self.failures_left: dict[str, int] = {}
        self.sent: list[str] = []
        self.started: list[str] = []
        self.delay = 0.0
        # Sends past the first `open_sends` wait in the provider (None: none waits).
        self.open_sends: int | None = None
        self.admitted = 0
        self.waiting = 0
        self.gate = Event()

    def send(self, delivery):
        message_id = delivery["message_id"]
        self.started.append(message_id)
        if self.failures_left.get(message_id, 0) != 0:
            self.failures_left[message_id] -= 1
            raise TemporaryFailure(f"provider down for {message_id}")
        self.admitted += 1
        if self.open_sends is not None and self.admitted > self.open_sends:
            self.waiting += 1
            self.gate.wait()
        if self.admitted == self.open_sends:
            HELD_REPORTS.add(message_id)  # the last one let through: its report is held
        eventlet.sleep(self.delay)
        self.sent.append(message_id)
        return f"p-{message_id}"


REPORTS: dict[str, list[str]] = collections.defaultdict(list)
HELD_REPORTS: set[str] = set()  # messaging takes the first report of these and never ends


class FakeMessaging:
    name = "messaging"

    @rpc
    def claim_delivery(self, message_id):
        if "sent" in REPORTS[message_id]:
            return {"send": False}
        return {
            "send": True,
            "delivery": {
                "message_id": message_id,
                "contact_id": "c",
                "channel": "email",
                "to": "a@x.example",
                "content": {"subject": "s", "text": "t"},
            },
        }

    @rpc
    def report_delivery(self, message_id, status, details):
        if message_id in HELD_REPORTS:
            HELD_REPORTS.discard(message_id)
            Event().wait()
        REPORTS[message_id].append(status)


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr(base, "make_provider", lambda config, sender: (fake, {}))
    REPORTS.clear()
    HELD_REPORTS.clear()
    return fake


@pytest.fixture
def retries(service_config):
    with nameko.config.patch({"MESSAGING": {"retry_attempts": 3, "retry_backoff_seconds": 0.02}}):
        yield


def publish(amqp_uri, *message_ids):
    publisher = Publisher(amqp_uri, declare=[queues.EXCHANGE, *queues.all_queues()])
    for message_id in message_ids:
        publisher.publish(
            {"message_id": message_id, "channel": "email"},
            exchange=queues.EXCHANGE,
            routing_key="email",
        )


def wait_until(condition, seconds=15.0):
    deadline = eventlet.hubs.get_hub().clock() + seconds
    while not condition():
        assert eventlet.hubs.get_hub().clock() < deadline, "timed out"
        eventlet.sleep(0.02)


def test_fails_twice_then_succeeds_and_is_sent_once(
    service_config, retries, provider, container_factory
):
    container_factory(FakeMessaging).start()
    container_factory(EmailSender).start()
    provider.failures_left["flaky"] = 2
    publish(service_config["AMQP_URI"], "flaky")
    wait_until(lambda: REPORTS["flaky"] == ["sent"])
    eventlet.sleep(0.3)
    assert provider.started == ["flaky"] * 3 and provider.sent == ["flaky"]
    assert REPORTS["flaky"] == ["sent"]


def test_always_failing_ends_in_the_dead_letter_queue_with_its_error(
    service_config, retries, provider, container_factory
):
    container_factory(FakeMessaging).start()
    container_factory(EmailSender).start()
    provider.failures_left["doomed"] = -1  # never stops failing
    publish(service_config["AMQP_URI"], "doomed")
    wait_until(lambda: REPORTS["doomed"] == ["soft_bounce"])
    with Connection(service_config["AMQP_URI"]) as connection:
        dead = queues.dead_letter_queue("email")(connection.channel())
        wait_until(lambda: dead.queue_declare(passive=True).message_count == 1)
        parked = dead.get(no_ack=False)
        assert parked.payload["message_id"] == "doomed"
        assert "provider down for doomed" in parked.headers["x-error"]
        assert parked.headers["x-attempts"] == 3 and provider.sent == []
        parked.requeue()

    provider.failures_left["doomed"] = 0  # the provider is back: replay (after a fix)
    assert replay_parked(service_config["AMQP_URI"], queues.queue_name("email")) == 1
    wait_until(lambda: provider.sent == ["doomed"])
    wait_until(lambda: REPORTS["doomed"][-1:] == ["sent"])


def test_a_sender_killed_mid_batch_sends_nothing_twice(
    service_config, retries, provider, container_factory
):
    # A message an earlier test's sender held unacknowledged when it stopped is back on
    # the queue: not this test's to send.
    with Connection(service_config["AMQP_URI"]) as connection:
        queue = queues.sender_queue("email")(connection.channel())
        queue.declare()
        queue.purge()
    container_factory(FakeMessaging).start()
    sender = container_factory(EmailSender)
    sender.start()
    provider.open_sends = 5
    batch = [f"m{i:02d}" for i in range(30)]
    publish(service_config["AMQP_URI"], *batch)
    # The kill comes at a known point, whatever the machine's load: five sent, four of
    # them reported, the fifth's report taken by messaging but not landed, and more
    # waiting inside the provider.
    wait_until(
        lambda: (
            len(provider.sent) == 5
            and provider.waiting >= 1
            and sum("sent" in REPORTS[m] for m in batch) == 4
        ),
        seconds=30,
    )
    sender.kill()
    in_flight = {m for m in provider.started if "sent" not in REPORTS[m]}
    [unreported] = set(provider.sent) - {m for m in batch if "sent" in REPORTS[m]}

    provider.open_sends = None  # the next process finds the provider working
    container_factory(EmailSender).start()
    wait_until(lambda: all("sent" in REPORTS[m] for m in batch), seconds=30)
    twice = {m for m, n in collections.Counter(provider.sent).items() if n > 1}
    # Only the one the provider had and whose report had not landed goes out again.
    assert twice == {unreported} and twice <= in_flight
    assert sorted(set(provider.sent)) == batch
    assert all(REPORTS[m] == ["sent"] for m in batch)
