"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291): one
POST to each of the contact's push subscriptions for the message's device
(webpush_desktop: desktop, webpush_mobile: mobile). The push service is the
subscription's endpoint, so there is no base URL to configure.

The subscriptions, with their keys, come from contacts (`webpush_subscriptions`) at send
time rather than from the queued delivery: the keys never leave contacts otherwise, and
a subscription removed since the message was queued is not pushed to.

Each push service answers for its subscription: 2xx accepted; 404/410 the subscription
is gone for good (it is removed from the contact); 429, 5xx and 401 (our VAPID key, a
config matter) are worth another try; any other 4xx (403: subscribed with another VAPID
key, 413, 400) refuses it. One accepted push makes the message sent; else any retryable
answer retries the message; else it ends `undelivered`.

An endpoint off the allowed push services (plexus.push_services: contacts refuses them,
but one may have been stored before, or the list changed since) is refused without a
request, and a push service's redirect is not followed: the sender calls nothing but a
push service."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from plexus.errors import NotFound, Unavailable
from plexus.push_services import DEFAULT as DEFAULT_PUSH_SERVICES
from plexus.push_services import PushServices
from services.messaging.logic.eligibility import WEBPUSH_DEVICE
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure
from services.messaging.senders.providers import vapid as vapid_keys
from services.messaging.senders.providers.http import post_bytes
from services.messaging.senders.providers.push_encryption import MAX_PAYLOAD, encrypt

# The terminal status of a push that can never arrive (the webpush activity types); `expired`
# (its TTL ran out, which a push service does not tell a sender) is messaging's timer's.
UNDELIVERED = "undelivered"
# Who removes a subscription its push service says is gone (the consent ledger's actor).
ACTOR = "sender:webpush"
GONE = frozenset({404, 410})
ACCEPTED, REMOVED, RETRY, REFUSED = "accepted", "removed", "retry", "refused"


@dataclass(frozen=True)
class Answer:
    """How one subscription's push went: `kind` is one of the four above."""

    kind: str
    detail: str
    retry_after: float | None = None


def retry_after_seconds(value) -> float | None:
    """Retry-After in seconds; the HTTP-date form is left to our own back-off."""
    text = str(value or "").strip()
    return float(text) if text.isdigit() else None


def read_answer(subscription_id: str, status: int, headers) -> Answer:
    detail = f"subscription {subscription_id}: HTTP {status}"
    if 200 <= status < 300:
        return Answer(ACCEPTED, headers.get("Location") or f"webpush:{subscription_id}")
    if status in GONE:
        return Answer(REMOVED, detail)
    if status in (401, 429) or status >= 500:
        return Answer(RETRY, detail, retry_after_seconds(headers.get("Retry-After")))
    return Answer(REFUSED, detail)


def conclude(answers: list[Answer]) -> str:
    """The provider id when any push was accepted; else raises how the message ends."""
    accepted = [a for a in answers if a.kind == ACCEPTED]
    if accepted:
        return accepted[0].detail[:255]
    reason = "; ".join(a.detail for a in answers)[:500]
    retry = [a for a in answers if a.kind == RETRY]
    if retry:
        waits = [a.retry_after for a in retry if a.retry_after is not None]
        raise TemporaryFailure(reason, retry_after=max(waits) if waits else None)
    raise PermanentFailure(UNDELIVERED, reason)


def addresses(read, *args) -> list[dict]:
    """The contact's push addresses as `read(*args)` (a contacts port's method) answers
    them: a contact gone ends the message, contacts away retries it."""
    try:
        return read(*args)
    except NotFound:
        raise PermanentFailure(UNDELIVERED, "the contact is gone") from None
    except Unavailable as error:  # retried like a push service away, then undelivered
        raise TemporaryFailure(f"contacts: {error}") from None


def push_each(targets: list[dict], push, remove) -> str:
    """One push to each of the contact's addresses (`push(target)` answers an Answer),
    `remove(id)` for each its service calls gone; then how the message ends (conclude)."""
    answers = []
    for target in targets:
        answer = push(target)
        if answer.kind == REMOVED:
            remove(target["id"])
        answers.append(answer)
    return conclude(answers)


def payload(delivery: dict) -> bytes:
    """What the service worker (the gateway's /ui/sw.js) receives: the text, the message
    id, and the signed token it reports delivered, click and dismissed with (/t/p/)."""
    return json.dumps(
        {
            "message_id": delivery["message_id"],
            "body": delivery["content"].get("body") or "",
            "token": delivery.get("report_token") or "",
        },
        ensure_ascii=False,
    ).encode()


class WebpushProvider:
    name = "webpush"

    def __init__(
        self,
        settings: dict,
        private_key: str,
        contacts=None,
        push_services: PushServices | None = None,
    ):
        self.vapid = vapid_keys.load(private_key)
        self.push_services = push_services or PushServices.parse(DEFAULT_PUSH_SERVICES)
        self.subject = str(settings.get("vapid_subject") or "mailto:admin@plexus.local")
        self.ttl = int(settings.get("ttl") or 86400)
        self.timeout = float(settings.get("timeout") or 10)
        self.contacts = contacts
        try:  # a bad subject fails at start, not on every message
            vapid_keys.authorization(self.vapid, "https://push.example", self.subject)
        except Exception as error:
            raise ValueError(
                "MESSAGING.providers.webpush.vapid_subject must be a mailto: "
                f"or https: URL: {error}"
            ) from None

    def bind(self, contacts) -> WebpushProvider:
        """This provider for one worker, asking contacts through that worker's RPC."""
        bound = copy.copy(self)
        bound.contacts = contacts
        return bound

    def headers(self, endpoint: str) -> dict:
        return {
            "Authorization": vapid_keys.authorization(self.vapid, endpoint, self.subject),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self.ttl),
        }

    def push(self, subscription: dict, body: bytes) -> Answer:
        refusal = self.push_services.refusal(subscription["endpoint"])
        if refusal:
            return Answer(REFUSED, f"subscription {subscription['id']}: the endpoint {refusal}")
        keys = subscription["keys"]
        try:
            encrypted = encrypt(body, keys["p256dh"], keys["auth"])
        except ValueError as error:  # not a point on P-256: this browser can never read it
            return Answer(REFUSED, f"subscription {subscription['id']}: bad keys ({error})")
        endpoint = subscription["endpoint"]
        try:
            status, headers, _ = post_bytes(
                endpoint, encrypted, self.headers(endpoint), self.timeout
            )
        except TemporaryFailure as error:
            return Answer(RETRY, f"subscription {subscription['id']}: {error}")
        return read_answer(subscription["id"], status, headers)

    def send(self, delivery: dict) -> str:
        body = payload(delivery)
        if len(body) > MAX_PAYLOAD:
            raise PermanentFailure(
                UNDELIVERED,
                f"the push payload is {len(body)} bytes; a push message holds {MAX_PAYLOAD}",
            )
        contact_id, device = delivery["contact_id"], WEBPUSH_DEVICE[delivery["channel"]]
        subscriptions = addresses(self.contacts.webpush_subscriptions, contact_id, device)
        if not subscriptions:
            raise PermanentFailure(
                UNDELIVERED, f"the contact has no {device} push subscription left"
            )
        return push_each(
            subscriptions,
            lambda subscription: self.push(subscription, body),
            lambda gone: self.contacts.remove_webpush_subscription(contact_id, gone, ACTOR),
        )
