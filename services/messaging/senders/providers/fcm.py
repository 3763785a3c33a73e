"""App push through Firebase Cloud Messaging's HTTP v1 API: one
`POST {base_url}/v1/projects/{project}/messages:send` for each of the contact's device
tokens, `{"message": {"token", "notification": {"title", "body"}, "data": {...}}}`,
authorised by a service account's access token (google_oauth).

The tokens come from contacts (`app_push_tokens`) at send time, as webpush's
subscriptions do: a token removed since the message was queued is not pushed to.

FCM answers each token: 200 accepted (the provider id is the message `name` it gives);
404 UNREGISTERED (or NOT_FOUND) the app was uninstalled or the token expired: it is
removed from the contact; 429, 5xx and 401 (our access token: asked anew next time)
are worth another try; any other refusal (400 INVALID_ARGUMENT, 403 SENDER_ID_MISMATCH)
refuses that token. One accepted push makes the message sent; else any retryable answer
retries the message; else it ends `undelivered`."""

from __future__ import annotations

import copy
import json

from services.messaging.senders.providers import PermanentFailure, TemporaryFailure
from services.messaging.senders.providers.google_oauth import AccessTokens, ServiceAccount
from services.messaging.senders.providers.http import post_bytes
from services.messaging.senders.providers.webpush import (
    ACCEPTED,
    REFUSED,
    REMOVED,
    RETRY,
    UNDELIVERED,
    Answer,
    addresses,
    push_each,
    retry_after_seconds,
)

DEFAULT_BASE_URL = "https://fcm.googleapis.com"
# Who removes a token FCM calls dead (the contact event's actor).
ACTOR = "sender:app_push"
# FCM's error codes (google.firebase.fcm.v1.FcmError) meaning the token is dead for good.
DEAD_TOKEN = frozenset({"UNREGISTERED"})


def error_code(answer: dict) -> str:
    """FCM's errorCode of an error answer, else its status (NOT_FOUND...), else ""."""
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "")


def read_answer(token_id: str, status: int, headers, answer: dict) -> Answer:
    code = error_code(answer)
    detail = f"token {token_id}: HTTP {status}" + (f" {code}" if code else "")
    if status == 200:
        return Answer(ACCEPTED, str(answer.get("name") or f"fcm:{token_id}"))
    if status == 404 or code in DEAD_TOKEN:
        return Answer(REMOVED, detail)
    if status in (401, 429) or status >= 500:
        return Answer(RETRY, detail, retry_after_seconds(headers.get("Retry-After")))
    return Answer(REFUSED, detail)


def message(token: str, delivery: dict, default_title: str) -> dict:
    """The FCM message for one device. `data` (strings only, as FCM wants) carries the
    message id and the signed URL (POST /t/p/{token}) the app reports `delivered` and
    `open` to."""
    content = delivery.get("content") or {}
    notification = {"body": content.get("body") or content.get("text") or ""}
    title = content.get("subject") or default_title
    if title:
        notification["title"] = title
    data = {"message_id": delivery["message_id"]}
    for name in ("report_token", "report_url"):  # POST report_url {"event": "delivered"}
        if delivery.get(name):
            data[name] = delivery[name]
    return {"message": {"token": token, "notification": notification, "data": data}}


class FcmProvider:
    name = "fcm"

    def __init__(self, settings: dict, contacts=None, tokens: AccessTokens | None = None):
        self.timeout = float(settings.get("timeout") or 10)
        if tokens is None:
            path = settings.get("service_account_file")
            if not path:
                raise ValueError(
                    "MESSAGING.providers.fcm.service_account_file is required "
                    "(PLEXUS_FCM_SERVICE_ACCOUNT_FILE)"
                )
            account = ServiceAccount.from_file(path, settings.get("token_uri") or None)
            tokens = AccessTokens(account, self.timeout)
        self.tokens = tokens
        project = settings.get("project_id") or tokens.account.project_id
        if not project:
            raise ValueError("MESSAGING.providers.fcm.project_id is required (PLEXUS_FCM_PROJECT)")
        base_url = str(settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.url = f"{base_url}/v1/projects/{project}/messages:send"
        self.default_title = str(settings.get("default_title") or "")
        self.contacts = contacts

    def bind(self, contacts) -> FcmProvider:
        """This provider for one worker, asking contacts through that worker's RPC."""
        bound = copy.copy(self)
        bound.contacts = contacts
        return bound

    def push(self, token: dict, delivery: dict) -> Answer:
        access = self.tokens.current()
        body = json.dumps(message(token["token"], delivery, self.default_title)).encode()
        headers = {"Authorization": f"Bearer {access}", "Content-Type": "application/json"}
        try:
            status, answer_headers, raw = post_bytes(self.url, body, headers, self.timeout)
        except TemporaryFailure as error:
            return Answer(RETRY, f"token {token['id']}: {error}")
        if status == 401:
            self.tokens.forget(access)
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        return read_answer(
            token["id"], status, answer_headers, answer if isinstance(answer, dict) else {}
        )

    def send(self, delivery: dict) -> str:
        contact_id = delivery["contact_id"]
        tokens = addresses(self.contacts.app_push_tokens, contact_id)
        if not tokens:
            raise PermanentFailure(UNDELIVERED, "the contact has no app push token left")
        return push_each(
            tokens,
            lambda token: self.push(token, delivery),
            lambda gone: self.contacts.remove_app_push_token(contact_id, gone, ACTOR),
        )
