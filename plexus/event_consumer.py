"""Consuming a source's events in batches: the handler gets a list of payloads, in queue
order, and handles them in one transaction with set-based writes; the batch is then
acknowledged at once. One transaction and one acknowledgement an event held a consumer
to about 60 events a second; a batch of hundreds costs little more than one event.

    class ActivityService:
        @on_events("contacts")
        def on_contact_events(self, payloads): ...   # each payload["event"] says which

A batch is what arrived while the previous one was handled, up to EVENT_BATCH_SIZE; when
the consumer is idle, the first event waits EVENT_BATCH_LINGER_MS for company. Batches
of one consumer run one after the other, so one process handles a queue in its order.

A batch whose handler raised is split in halves, each handled in a transaction of its
own, down to the single event that fails: only that one is retried with back-off and
parked (plexus.consumer.RetryingConsumer); the others are stored once. Handlers stay
idempotent by event_id: a crash after the commit and before the acknowledgement
delivers the whole batch again.
"""

from __future__ import annotations

import logging

import eventlet
import nameko
from eventlet.event import Event

from plexus import tracing
from plexus.consumer import RetryingConsumer, event_queue
from plexus.metrics import service_counter, service_histogram

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_LINGER_MS = 5.0
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)


class EventConsumer(RetryingConsumer):
    """Entrypoint: every event a service consumes from one source, from one queue, in
    batches (see the module's text)."""

    def __init__(self, source: str, **kwargs):
        self.source = self.label = source
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.queue = event_queue(self.container.service_name, self.source)
        self.batch_size = int(nameko.config.get("EVENT_BATCH_SIZE") or DEFAULT_BATCH_SIZE)
        linger_ms = nameko.config.get("EVENT_BATCH_LINGER_MS")
        self.linger = float(DEFAULT_LINGER_MS if linger_ms in (None, "") else linger_ms) / 1000
        # Room for the next batch to arrive while one is handled.
        self.consumer_options["prefetch_count"] = 2 * self.batch_size
        self.waiting: list = []  # (body, message) received, not yet in a batch
        self.arrived = Event()
        # Messages settled outside the batches (retries waiting their back-off, and
        # redeliveries): an acknowledgement with multiple=True must not cover them.
        self.set_aside: set = set()
        service = self.container.service_name
        self.batch_sizes = service_histogram(
            service,
            "plexus_event_batch_size",
            "Events handled together in one batch.",
            ["source"],
            buckets=BATCH_SIZE_BUCKETS,
        )
        self.splits = service_counter(
            service,
            "plexus_event_batch_splits_total",
            "Batches whose handler failed and were split to find the failing event.",
            ["source"],
        )
        super().setup()

    def start(self) -> None:
        self.stopping = False
        self.idle = Event()
        self.idle.send(True)
        self.container.spawn_managed_thread(self._batches, identifier=f"batches[{self.queue.name}]")
        super().start()

    def stop(self) -> None:
        """Finish and settle the batch under way; the ones waiting go back to the queue
        with the connection."""
        self.stopping = True
        self.idle.wait()
        super().stop()

    # ---- receiving (the consumer's reader thread: never blocks)

    def handle_message(self, body, message) -> None:
        key = self.identity(body)
        if key is not None and self.handled.known(key):
            self.set_aside.add(message)
            self.container.spawn_managed_thread(
                lambda: self._again(key, body, message), identifier=f"redelivered[{key}]"
            )
            return
        if key is not None:
            self.handled.started(key)
        self.waiting.append((body, message))
        if not self.arrived.ready():
            self.arrived.send(True)

    # ---- batching (one green thread per consumer)

    def _batches(self) -> None:
        while not self.stopping:
            self.arrived.wait()
            if len(self.waiting) < self.batch_size and self.linger > 0:
                eventlet.sleep(self.linger)
            if self.stopping:
                break
            batch, self.waiting = (self.waiting[: self.batch_size], self.waiting[self.batch_size :])
            if not self.waiting:
                self.arrived.reset()
            if batch:
                self.idle.reset()
                try:
                    self._handle(batch)
                finally:
                    self.idle.send(True)

    def _handle(self, batch: list) -> None:
        """Run the handler over `batch`; on failure, over each half, down to one."""
        exc_info = self._run_worker([body for body, _ in batch])
        if exc_info is None:
            self._acknowledge(batch)
            self.batch_sizes.labels(self.source).observe(len(batch))
            return
        if len(batch) == 1:
            self._failed_alone(batch[0], exc_info)
            return
        self.splits.labels(self.source).inc()
        log.warning(
            "a batch of %d events on %s failed (%s): handling it in halves",
            len(batch),
            self.queue.name,
            exc_info[0].__name__,
        )
        half = len(batch) // 2
        self._handle(batch[:half])
        self._handle(batch[half:])

    def _run_worker(self, payloads: list[dict]):
        """The handler in a nameko worker (dependencies, metrics); its exc_info."""
        done = Event()

        def finished(_worker_ctx, result=None, exc_info=None):
            done.send(exc_info)
            return result, exc_info

        # A batch runs under the trace of its first event that carries one: its log lines
        # name that request (the others' ids are in their payloads).
        traced = next((p for p in payloads if isinstance(p, dict) and tracing.REQUEST_ID in p), {})
        context = {
            key: traced[key] for key in (tracing.REQUEST_ID, tracing.TRACEPARENT) if key in traced
        }
        self.container.spawn_worker(
            self, (payloads,), {}, context_data=context, handle_result=finished
        )
        return done.wait()

    def _acknowledge(self, batch: list) -> None:
        messages = [message for _, message in batch]
        last = messages[-1]
        covered = any(
            other.channel is last.channel and other.delivery_tag < last.delivery_tag
            for other in self.set_aside
        )
        if covered or any(m.channel is not last.channel for m in messages):
            settled = all([self._settle(self.consumer.ack_message, m) for m in messages])
        else:
            # One frame acknowledges the batch and everything before it on the channel,
            # which is only this batch: earlier batches were settled before it ran.
            settled = self._settle(lambda m: m.ack(multiple=True), last)
        if not settled:
            log.warning(
                "a batch of %d events on %s was handled but not acknowledged: a "
                "redelivery to this process is acknowledged, not run again",
                len(batch),
                self.queue.name,
            )
        for body, _ in batch:
            key = self.identity(body)
            if key is not None:
                self.handled.finished(key, ok=True)

    def _failed_alone(self, entry, exc_info) -> None:
        """The one failing event: parked at once on its last attempt, else retried after
        its back-off, waited out off this thread so the batches behind it go on."""
        body, message = entry
        if self.attempt(message) >= self.max_attempts():
            self.handle_message_processed(message, exc_info=exc_info)
            return
        self.set_aside.add(message)

        def settle():
            try:
                self.handle_message_processed(message, exc_info=exc_info)
            finally:
                self.set_aside.discard(message)

        self.container.spawn_managed_thread(settle, identifier=f"retry[{self.queue.name}]")

    def _again(self, key: str, body, message) -> None:
        try:
            if not self.handled.wait_and_check(key):
                # The run under way failed: this delivery is its retry.
                self.handled.started(key)
                exc_info = self._run_worker([body])
                if exc_info is None:
                    self._settle(self.consumer.ack_message, message)
                    self.handled.finished(key, ok=True)
                else:
                    self.handle_message_processed(message, exc_info=exc_info)
                return
            log.warning(
                "message %s on %s delivered again after it was handled here (the "
                "connection it came on was lost): acknowledged, not run twice",
                key,
                self.queue.name,
            )
            self._settle(self.consumer.ack_message, message)
        finally:
            self.set_aside.discard(message)


on_events = EventConsumer.decorator
