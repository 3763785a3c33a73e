"""plexus.event_consumer on the real broker: events wait for a consumer that has not run
yet, arrive in batches, a failing handler is retried with back-off, one that keeps
failing is parked on the dead-letter queue with its error, from where it can be
replayed, and a poison event in a batch is found and parked alone."""

import eventlet
import pytest
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from prometheus_client import REGISTRY

from plexus import consumer as plexus_consumer
from plexus.consumer import dead_letter_queue, declare_topology, replay_dead_letters
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics
from plexus.timeutil import rfc3339, utcnow

SUBSCRIPTIONS = {"probe": {"contacts": ("contact_created",)}}


@pytest.fixture(autouse=True)
def probe_subscription(monkeypatch):
    monkeypatch.setattr(plexus_consumer, "SUBSCRIPTIONS", SUBSCRIPTIONS)
    monkeypatch.setattr(plexus_consumer, "backoff_seconds", lambda attempt: 0.05)


def publish(amqp_uri, *payloads):
    exchange = get_event_exchange("contacts")
    publisher = Publisher(amqp_uri, declare=[exchange])
    for payload in payloads:
        publisher.publish(payload, exchange=exchange, routing_key="contact_created")


def wait_until(condition, seconds=10.0):
    deadline = eventlet.hubs.get_hub().clock() + seconds
    while not condition():
        assert eventlet.hubs.get_hub().clock() < deadline, "timed out"
        eventlet.sleep(0.05)


def make_service(fail_times, poison=()):
    """A probe whose handler fails a batch holding an event of `poison`, or one seen no
    more than `fail_times` times yet; `batches` keeps the sizes it was handed."""

    class Probe:
        name = "probe"
        seen: list = []
        batches: list = []
        metrics = ServiceMetrics()

        @on_events("contacts")
        def on_contact_events(self, payloads):
            Probe.batches.append(len(payloads))
            Probe.seen.extend(payload["event_id"] for payload in payloads)
            for payload in payloads:
                if payload["event_id"] in poison:
                    raise RuntimeError(f"{payload['event_id']} is poison")
                if Probe.seen.count(payload["event_id"]) <= fail_times:
                    raise RuntimeError(f"attempt {len(Probe.seen)} fails")

    return Probe


def test_events_published_before_the_consumer_ran_are_kept(service_config, container_factory):
    declare_topology(service_config["AMQP_URI"], SUBSCRIPTIONS)
    publish(service_config["AMQP_URI"], {"event": "contact_created", "event_id": "early"})
    service = make_service(fail_times=0)
    container_factory(service).start()
    wait_until(lambda: service.seen == ["early"])


def test_a_failing_handler_is_retried_until_it_succeeds(service_config, container_factory):
    service = make_service(fail_times=2)
    container_factory(service).start()
    publish(
        service_config["AMQP_URI"],
        {"event": "contact_created", "event_id": "flaky", "occurred_at": rfc3339(utcnow())},
    )
    wait_until(lambda: len(service.seen) == 3)
    eventlet.sleep(0.5)
    assert service.seen == ["flaky"] * 3  # two failures, one success, nothing after
    labels = {"service": "probe", "event": "contact_created"}
    assert REGISTRY.get_sample_value("plexus_event_handler_duration_seconds_count", labels) >= 3
    assert (
        REGISTRY.get_sample_value(
            "plexus_event_handler_errors_total", {**labels, "error": "RuntimeError"}
        )
        >= 2
    )
    lag = REGISTRY.get_sample_value(
        "plexus_event_lag_seconds_count", {"service": "probe", "source": "contacts"}
    )
    assert lag >= 3
    assert (
        REGISTRY.get_sample_value(
            "plexus_event_retries_total",
            {"service": "probe", "source": "contacts", "outcome": "retried"},
        )
        >= 2
    )


def test_a_poison_event_is_dead_lettered_with_its_error_then_replayed(
    service_config, container_factory
):
    amqp_uri = service_config["AMQP_URI"]
    service = make_service(fail_times=1000)
    container = container_factory(service)
    container.start()
    publish(amqp_uri, {"event": "contact_created", "event_id": "poison"})
    wait_until(lambda: len(service.seen) == plexus_consumer.MAX_ATTEMPTS)
    container.stop()

    with Connection(amqp_uri) as connection:
        dead = dead_letter_queue("probe", "contacts")(connection.channel())
        wait_until(lambda: dead.queue_declare(passive=True).message_count == 1)
        parked = dead.get(no_ack=False)
        assert parked.payload["event_id"] == "poison"
        assert "RuntimeError" in parked.headers["x-error"]
        assert parked.headers["x-attempts"] == plexus_consumer.MAX_ATTEMPTS
        parked.requeue()

    assert replay_dead_letters(amqp_uri, "probe", "contacts") == 1
    healed = make_service(fail_times=0)
    container_factory(healed).start()
    wait_until(lambda: healed.seen == ["poison"])


def test_events_come_in_batches_and_a_poison_one_is_parked_alone(service_config, container_factory):
    """500 events published before the consumer starts; one of them always fails. The
    batch holding it is split until it stands alone: it is retried and parked, every
    other event is handled by exactly one successful batch."""
    amqp_uri = service_config["AMQP_URI"]
    declare_topology(amqp_uri, SUBSCRIPTIONS)
    ids = [f"e{n:03d}" for n in range(500)]
    publish(amqp_uri, *({"event": "contact_created", "event_id": i} for i in ids))
    service = make_service(fail_times=0, poison={"e321"})
    container = container_factory(service)
    container.start()

    with Connection(amqp_uri) as connection:
        dead = dead_letter_queue("probe", "contacts")(connection.channel())
        wait_until(lambda: dead.queue_declare(passive=True).message_count == 1, seconds=20)
        assert dead.get(no_ack=False).payload["event_id"] == "e321"
    container.stop()
    alone = [size for size, first in _runs(service) if first == "e321" and size == 1]
    assert len(alone) == plexus_consumer.MAX_ATTEMPTS  # retried alone, then parked

    assert max(service.batches) > 100  # batches, not one event at a time
    # Handled once each: what remains after taking out every run of a failing batch.
    handled: list = []
    position = 0
    for size in service.batches:
        batch = service.seen[position : position + size]
        position += size
        if "e321" not in batch:
            handled.extend(batch)
    assert sorted(handled) == [i for i in ids if i != "e321"]
    assert (
        REGISTRY.get_sample_value(
            "plexus_event_batch_splits_total", {"service": "probe", "source": "contacts"}
        )
        >= 1
    )


def _runs(service) -> list[tuple[int, str]]:
    """(size, first event id) of each batch the probe was handed."""
    runs, position = [], 0
    for size in service.batches:
        runs.append((size, service.seen[position]))
        position += size
    return runs
