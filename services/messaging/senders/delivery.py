"""Delivering one queued message, as plain code: claim it from messaging (which takes a
slot of the sender's shared rate limit, says whether it still waits to go, judges the
contact's consent at this moment, and hands over the address and the content), send, and
report how it went. A slot still to come is waited for, then the message is claimed
again, so the consent judged is the consent of the moment the provider is called. The
queue holds only the message id, so every attempt goes through the claim: a message sent
already (a redelivery after a sender died before acknowledging) or no longer allowed is
never handed to the provider. A temporary failure raises, for the queue to retry; on the
last attempt the message is first reported as failed for good."""

from __future__ import annotations

import time

from plexus.contract import vocab
from services.messaging.ports import MessagingPort
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure

SENT, DELIVERED, SKIPPED, SUPPRESSED = "sent", "delivered", "skipped", "suppressed"


class Meter:
    """Where deliver() reports what an SRE watches; this one forgets it (unit tests)."""

    def waited(self, seconds: float) -> None:
        pass

    def provider_call(self, provider: str, outcome: str, seconds: float) -> None:
        pass


def deliver(
    queued: dict,
    provider,
    messaging: MessagingPort,
    limit: dict | None = None,
    attempt: int = 1,
    max_attempts: int = 1,
    meter: Meter = Meter(),
    sleep=None,
) -> str:
    """The status the message reached: sent, skipped, suppressed, or a permanent failure
    status. `queued` is the queue's body: the message id and channel; `limit` the
    sender's rate limit (senders/ratelimit.py), None for none."""
    message_id = queued["message_id"]
    claimed = messaging.claim(message_id, limit)
    if claimed.get("wait"):
        # Within the limit the first claim answers at once (one RPC a send); over it, the
        # slot is ours and consent waits to be judged until the slot comes.
        # time.sleep looked up now: eventlet's once `nameko run` has patched it.
        (sleep or time.sleep)(claimed["wait"])
        meter.waited(claimed["wait"])
        claimed = messaging.claim(message_id)
    if not claimed["send"]:
        return SUPPRESSED if claimed.get("suppressed") else SKIPPED
    delivery = claimed["delivery"]
    started = time.perf_counter()
    try:
        provider_id = provider.send(delivery)
    except PermanentFailure as failure:
        meter.provider_call(provider.name, "permanent_failure", time.perf_counter() - started)
        messaging.report(
            message_id, failure.status, {"reason": failure.reason, "provider": provider.name}
        )
        return failure.status
    except TemporaryFailure as failure:
        meter.provider_call(provider.name, "temporary_failure", time.perf_counter() - started)
        if attempt >= max_attempts:
            messaging.report(
                message_id,
                vocab.EXHAUSTED[delivery["channel"]],
                {"reason": str(failure), "provider": provider.name, "attempts": attempt},
            )
        raise
    meter.provider_call(provider.name, "accepted", time.perf_counter() - started)
    messaging.report(message_id, SENT, {"provider_id": provider_id, "provider": provider.name})
    if getattr(provider, "accepted_is_delivered", False):
        # Telegram's Bot API answers once the message is in the chat: no receipt follows.
        messaging.report(message_id, DELIVERED, {"provider": provider.name})
    return SENT
