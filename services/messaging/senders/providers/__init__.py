"""A provider sends one delivery and answers the provider's id for it, or raises:

    class Provider(Protocol):
        name: str
        def send(self, delivery: dict) -> str: ...

`delivery` is what messaging queued: {"message_id", "contact_id", "channel", "to",
"content", "unsubscribe_url"?}. A TemporaryFailure is retried with back-off; a
PermanentFailure ends the message with its status (an activity type of the channel)."""

from __future__ import annotations


class TemporaryFailure(Exception):
    """Try again later: the provider is away, busy, or rate-limiting us. `retry_after`
    (seconds) is the provider's own word on when, if it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """This message will never go: `status` says how it ended (hard_bounce, failed...)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason
