"""What every sender service is made of: the channel-queue entrypoint (retry with
back-off, then the dead-letter queue: plexus.consumer.RetryingConsumer), its provider
and rate limit, an RPC client to messaging, metrics, and `ping` for /ready.

    EmailSender = sender_service("email")   # services/messaging/senders/email.py
"""

from __future__ import annotations

import nameko
from nameko.extensions import DependencyProvider

from plexus.consumer import RetryingConsumer
from plexus.contract import events
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics, service_counter, service_histogram
from plexus.rpc import Caller, answer
from plexus.tracing import Tracing
from services.messaging import queues
from services.messaging.ports import ContactsPort, MessagingPort
from services.messaging.senders.delivery import Meter, deliver
from services.messaging.senders.providers.registry import make_provider
from services.messaging.senders.ratelimit import shared_limit
from services.messaging.settings import retry_policy


class ChannelConsumer(RetryingConsumer):
    """Entrypoint: the messages queued for one sender. The handler gets the queued body
    (message id and channel) with `attempt` (1 on the first try) added."""

    metric_name = "plexus_send_retries_total"

    def __init__(self, sender: str, **kwargs):
        self.sender = self.label = sender
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.queue = queues.sender_queue(self.sender)
        self.attempts, self.base_backoff = retry_policy(nameko.config)
        super().setup()

    def max_attempts(self) -> int:
        return self.attempts

    def backoff(self, attempt: int, error: BaseException | None = None) -> float:
        ours = self.base_backoff * 2 ** (attempt - 1)
        # A provider that said when (Retry-After) is asked again no sooner than that.
        theirs = getattr(error, "retry_after", None) or 0.0
        return min(60.0, max(ours, theirs))

    def handle_message(self, body, message):
        super().handle_message({**body, "attempt": self.attempt(message)}, message)


consume_channel = ChannelConsumer.decorator


class SenderMeter(Meter):
    """Provider latency and failures, and time spent waiting on the rate limit."""

    def __init__(self, service: str):
        self.duration = service_histogram(
            service,
            "plexus_provider_duration_seconds",
            "Time the provider took to take or refuse a message.",
            ["provider", "outcome"],
        )
        self.rate_waits = service_counter(
            service,
            "plexus_rate_limit_wait_seconds_total",
            "Seconds sends waited for the provider's rate limit.",
        )

    def waited(self, seconds: float) -> None:
        if seconds:
            self.rate_waits.inc(seconds)

    def provider_call(self, provider: str, outcome: str, seconds: float) -> None:
        self.duration.labels(provider, outcome).observe(seconds)


class ChannelProvider(DependencyProvider):
    """The sender's provider, made once per container from config, with its rate limit."""

    def __init__(self, sender: str):
        self.sender = sender

    def setup(self) -> None:
        self.provider, settings = make_provider(nameko.config, self.sender)
        # One bucket a sender, shared by its replicas: `rate_limit` is for them all.
        self.limit = shared_limit(self.sender, float(settings.get("rate_limit") or 0))
        self.max_attempts, _ = retry_policy(nameko.config)
        self.sent = service_counter(
            self.container.service_name,
            "plexus_sender_messages_total",
            "Messages handled, by provider and outcome.",
            ["provider", "outcome"],
        )
        self.meter = SenderMeter(self.container.service_name)

    def get_dependency(self, _worker_ctx):
        return self


class Sender:
    """Base of the sender services (sender_service() makes each)."""

    rpc = Caller()
    tracing = Tracing()  # the request's trace in logs, RPCs and events
    metrics = ServiceMetrics()
    channel: ChannelProvider

    @answer
    def ping(self):
        return "pong"

    @on_events(events.CONTACTS)
    def forget_erased(self, payloads):
        erased = [p["contact_id"] for p in payloads if p.get("event") == events.CONTACT_DELETED]
        forget = getattr(self.channel.provider, "forget", None)
        if erased and forget is not None:
            forget(erased)

    def send(self, delivery: dict) -> str:
        rpc = self.rpc
        channel = self.channel
        provider = channel.provider
        if hasattr(provider, "bind"):
            # A provider that reads the contact (webpush, app push) calls contacts through this
            # worker's RPC proxy, which carries this worker's call context.
            provider = provider.bind(ContactsPort(rpc))
        try:
            outcome = deliver(
                delivery,
                provider,
                MessagingPort(rpc),
                channel.limit,
                delivery.get("attempt", 1),
                channel.max_attempts,
                channel.meter,
            )
        except Exception:
            channel.sent.labels(channel.provider.name, "retry").inc()
            raise
        channel.sent.labels(channel.provider.name, outcome).inc()
        return outcome


def sender_service(sender: str) -> type:
    """The nameko service class of one sender (`sender_<name>`, consuming its queue)."""

    class ChannelSender(Sender):
        name = f"sender_{sender}"
        channel = ChannelProvider(sender)

        @consume_channel(sender)
        def deliver(self, delivery):
            return self.send(delivery)

    title = "".join(word.title() for word in sender.split("_"))  # app_push: AppPushSender
    ChannelSender.__name__ = ChannelSender.__qualname__ = f"{title}Sender"
    return ChannelSender
