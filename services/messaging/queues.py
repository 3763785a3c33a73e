"""Where queued messages wait for their sender: one direct exchange, one durable quorum
queue per sender (webpush_desktop and webpush_mobile share the webpush sender), each
with a dead-letter queue for messages that failed every attempt. Messaging publishes
through its delivery outbox; the senders consume."""

from __future__ import annotations

from kombu import Exchange, Queue, binding

from plexus.consumer import parking_queue, retrying_queue

EXCHANGE = Exchange("plexus.messages", type="direct", durable=True)

SENDER_CHANNELS = {
    "email": ("email",),
    "sms": ("sms",),
    "telegram": ("telegram",),
    "viber": ("viber",),
    "webpush": ("webpush_desktop", "webpush_mobile"),
    "app_push": ("app_push",),
}
SENDER_OF = {
    channel: sender for sender, channels in SENDER_CHANNELS.items() for channel in channels
}
# The broker parks a message delivered this often even if no handler ever finished
# (a sender killed mid-message each time); the senders' own limit comes first.
DELIVERY_LIMIT = 20


def queue_name(sender: str) -> str:
    return f"plexus.messages.{sender}"


def dead_letter_queue(sender: str) -> Queue:
    return parking_queue(queue_name(sender))


def sender_queue(sender: str) -> Queue:
    return retrying_queue(
        queue_name(sender),
        [binding(EXCHANGE, routing_key=c) for c in SENDER_CHANNELS[sender]],
        DELIVERY_LIMIT,
    )


def all_queues() -> list[Queue]:
    return [
        q for sender in SENDER_CHANNELS for q in (dead_letter_queue(sender), sender_queue(sender))
    ]
