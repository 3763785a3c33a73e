"""Delivering one queued message, as plain code: skip it if it was sent already (a
redelivery after a sender died before acknowledging), wait for the rate limit, send,
and report how it went to messaging. A temporary failure raises, for the queue to
retry; on the last attempt the message is first reported as failed for good."""

from __future__ import annotations

import contextlib
import time

from plexus.errors import NotFound
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure

SENT, SKIPPED = "sent", "skipped"
# What a message that failed every attempt ends as, per channel (plexus.contract.vocab).
EXHAUSTED = {"email": "soft_bounce", "sms": "fail", "telegram": "failed", "viber": "fail",
             "webpush_desktop": "undelivered", "webpush_mobile": "undelivered"}


class MessagingPort:
    """The two messaging RPCs a sender uses, over an RpcCaller."""

    def __init__(self, rpc):
        self.rpc = rpc

    def is_pending(self, message_id: str) -> bool:
        return self.rpc("messaging", "is_pending", message_id)

    def report(self, message_id: str, status: str, details: dict) -> None:
        self.rpc("messaging", "report_delivery", message_id, status, details)


class ContactsPort:
    """The contacts RPCs a provider that reads the contact uses (webpush: the push
    subscriptions with their keys, and removing one its push service says is gone)."""

    ACTOR = "sender:webpush"

    def __init__(self, rpc):
        self.rpc = rpc

    def webpush_subscriptions(self, contact_id: str, device: str) -> list[dict]:
        return self.rpc("contacts", "webpush_subscriptions", contact_id, device)

    def remove_webpush_subscription(self, contact_id: str, subscription_id: str) -> None:
        # NotFound: removed already, by the user or by an earlier try of this message.
        with contextlib.suppress(NotFound):
            self.rpc("contacts", "remove_webpush_subscription", contact_id, subscription_id,
                     self.ACTOR)


class Meter:
    """Where deliver() reports what an SRE watches; this one forgets it (unit tests)."""

    def waited(self, seconds: float) -> None:
        pass

    def provider_call(self, provider: str, outcome: str, seconds: float) -> None:
        pass


def deliver(delivery: dict, provider, messaging: MessagingPort, limiter, attempt: int = 1,
            max_attempts: int = 1, meter: Meter = Meter()) -> str:
    """The status the message reached: sent, skipped, or a permanent failure status."""
    message_id = delivery["message_id"]
    # A first delivery cannot have been sent; asking costs an RPC, so only ask again for
    # a message the broker redelivered.
    maybe_sent = delivery.get("redelivered", True) or attempt > 1
    if maybe_sent and not messaging.is_pending(message_id):
        return SKIPPED
    meter.waited(limiter.acquire())
    started = time.perf_counter()
    try:
        provider_id = provider.send(delivery)
    except PermanentFailure as failure:
        meter.provider_call(provider.name, "permanent_failure", time.perf_counter() - started)
        messaging.report(message_id, failure.status,
                         {"reason": failure.reason, "provider": provider.name})
        return failure.status
    except TemporaryFailure as failure:
        meter.provider_call(provider.name, "temporary_failure", time.perf_counter() - started)
        if attempt >= max_attempts:
            messaging.report(message_id, EXHAUSTED[delivery["channel"]],
                             {"reason": str(failure), "provider": provider.name,
                              "attempts": attempt})
        raise
    meter.provider_call(provider.name, "accepted", time.perf_counter() - started)
    messaging.report(message_id, SENT, {"provider_id": provider_id, "provider": provider.name})
    return SENT
