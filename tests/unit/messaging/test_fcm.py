"""The FCM (HTTP v1) app push provider and its OAuth service-account client, against the
fake FCM and token endpoint of tests/fake_providers (real HTTP on a local port): the
JWT the token endpoint checks, the access token kept until it nearly expires, what
each FCM answer means, and one message to several devices with one of them dead."""

import json
import threading
import time
from email.message import Message
from http.server import ThreadingHTTPServer

import pytest

from plexus.errors import NotFound
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure
from services.messaging.senders.providers.fcm import FcmProvider, message, read_answer
from services.messaging.senders.providers.google_oauth import (
    SCOPE,
    AccessTokens,
    ServiceAccount,
)
from services.messaging.senders.providers.webpush import ACCEPTED, REFUSED, REMOVED, RETRY
from tests.fake_providers import (
    FCM_PROJECT,
    Recorder,
    b64url_decode,
    fcm_error,
    fcm_messages,
    make_http_handler,
    new_service_account,
    verify_assertion,
)

DELIVERY = {
    "message_id": "m1",
    "contact_id": "c1",
    "channel": "app_push",
    "to": [],
    "content": {"subject": "Shipped", "body": "Your order is on its way"},
}


@pytest.fixture
def fake(tmp_path):
    """The fake's base URL and the service-account file it trusts."""
    recorder = Recorder(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_http_handler(recorder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield base_url, new_service_account(tmp_path, base_url), recorder
    finally:
        server.shutdown()
        server.server_close()


class Contacts:
    """The contacts port the provider reads tokens through and drops dead ones with."""

    def __init__(self, tokens):
        self.tokens = list(tokens)
        self.removed = []

    def app_push_tokens(self, contact_id):
        if contact_id != "c1":
            raise NotFound("no such contact")
        return [t for t in self.tokens if t["id"] not in self.removed]

    def remove_app_push_token(self, contact_id, token_id, actor):
        self.removed.append((token_id, actor))
        self.tokens = [t for t in self.tokens if t["id"] != token_id]


def tokens(*values):
    return [{"id": f"t{n}", "token": value} for n, value in enumerate(values, 1)]


def provider(fake, devices, **settings) -> FcmProvider:
    base_url, account_file, _ = fake
    made = FcmProvider(
        {"service_account_file": str(account_file), "base_url": base_url, **settings}
    )
    return made.bind(Contacts(devices))


def test_the_assertion_is_an_rs256_jwt_the_token_endpoint_accepts(fake, tmp_path):
    _, account_file, _ = fake
    account = ServiceAccount.from_file(account_file)
    assertion = account.assertion(now=time.time())
    header = json.loads(b64url_decode(assertion.split(".")[0]))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    public = (tmp_path / "fcm" / "public.pem").read_bytes()
    claims = verify_assertion(assertion, public, account.token_uri)
    assert claims["iss"] == account.email and claims["scope"] == SCOPE
    assert claims["exp"] - claims["iat"] == 3600
    tampered = assertion[:-4] + ("AAAA" if not assertion.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError, match="signature"):
        verify_assertion(tampered, public, account.token_uri)
    with pytest.raises(ValueError, match="aud"):
        verify_assertion(assertion, public, "https://oauth2.googleapis.com/token")


def test_a_bad_service_account_file_fails_at_start(tmp_path):
    with pytest.raises(ValueError, match="service_account_file"):
        FcmProvider({})
    with pytest.raises(ValueError, match="cannot read"):
        FcmProvider({"service_account_file": str(tmp_path / "missing.json")})
    (tmp_path / "bad.json").write_text(json.dumps({"client_email": "a@b", "private_key": "x"}))
    with pytest.raises(ValueError, match="private_key"):
        FcmProvider({"service_account_file": str(tmp_path / "bad.json")})


def test_the_access_token_is_kept_until_a_minute_before_it_expires(fake):
    _, account_file, _ = fake
    asked = []

    def exchange(url, *, form, timeout):
        asked.append(form)
        return 200, {"access_token": f"token-{len(asked)}", "expires_in": 3600}

    now = [1_000_000.0]
    access = AccessTokens(
        ServiceAccount.from_file(account_file), clock=lambda: now[0], exchange=exchange
    )
    assert access.current() == "token-1"
    now[0] += 3500
    assert access.current() == "token-1" and len(asked) == 1
    now[0] += 41  # 59 seconds left: renewed
    assert access.current() == "token-2"
    access.forget("token-1")  # an older token refused: the current one stays
    assert access.current() == "token-2"
    access.forget("token-2")
    assert access.current() == "token-3"
    assert asked[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_a_refused_grant_is_a_temporary_failure(fake):
    _, account_file, _ = fake
    access = AccessTokens(
        ServiceAccount.from_file(account_file),
        exchange=lambda url, **_: (400, {"error": "invalid_grant", "error_description": "bad"}),
    )
    with pytest.raises(TemporaryFailure, match="invalid_grant|bad"):
        access.current()


def headers(**values) -> Message:
    made = Message()
    for name, value in values.items():
        made[name.replace("_", "-")] = value
    return made


def error(code, status, fcm_code=None):
    return fcm_error(code, status, "as FCM says it", fcm_code)


@pytest.mark.parametrize(
    "status, answer, answer_headers, kind, retry_after",
    [
        (200, {"name": "projects/p/messages/1"}, headers(), ACCEPTED, None),
        (404, error(404, "NOT_FOUND", "UNREGISTERED"), headers(), REMOVED, None),
        (400, error(400, "INVALID_ARGUMENT", "UNREGISTERED"), headers(), REMOVED, None),
        (400, error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"), headers(), REFUSED, None),
        (403, error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), headers(), REFUSED, None),
        (429, error(429, "RESOURCE_EXHAUSTED"), headers(Retry_After="9"), RETRY, 9.0),
        (503, error(503, "UNAVAILABLE", "UNAVAILABLE"), headers(), RETRY, None),
        (500, {}, headers(), RETRY, None),
        (401, error(401, "UNAUTHENTICATED"), headers(), RETRY, None),
    ],
)
def test_what_each_fcm_answer_means(status, answer, answer_headers, kind, retry_after):
    read = read_answer("t1", status, answer_headers, answer)
    assert (read.kind, read.retry_after) == (kind, retry_after)


def test_the_message_is_fcm_s_shape():
    assert message("tok", DELIVERY, "Shop") == {
        "message": {
            "token": "tok",
            "notification": {"title": "Shipped", "body": "Your order is on its way"},
            "data": {"message_id": "m1"},
        }
    }
    untitled = {**DELIVERY, "content": {"body": "hi"}}
    assert message("tok", untitled, "")["message"]["notification"] == {"body": "hi"}
    assert message("tok", untitled, "Shop")["message"]["notification"]["title"] == "Shop"


def test_one_message_reaches_every_device_and_a_dead_token_is_removed(fake, tmp_path):
    sending = provider(fake, tokens("phone-token", "dead-old-phone", "tablet-token"))
    provider_id = sending.send(DELIVERY)
    assert provider_id == f"projects/{FCM_PROJECT}/messages/1"
    sent = fcm_messages(tmp_path)
    assert [m["message"]["token"] for m in sent] == ["phone-token", "tablet-token"]
    assert sent[0]["message"]["notification"] == {
        "title": "Shipped",
        "body": "Your order is on its way",
    }
    assert sent[0]["message"]["data"] == {"message_id": "m1"}
    assert sending.contacts.removed == [("t2", "sender:app_push")]
    # The access token was asked for once, and reused for the other devices.
    token_requests = [
        json.loads(line)
        for line in (tmp_path / "http.jsonl").read_text().splitlines()
        if json.loads(line)["path"] == "/oauth2/token"
    ]
    assert len(token_requests) == 1


def test_only_dead_tokens_end_undelivered_and_a_busy_fcm_is_retried(fake):
    with pytest.raises(PermanentFailure) as caught:
        provider(fake, tokens("dead-1")).send(DELIVERY)
    assert caught.value.status == "undelivered"
    with pytest.raises(PermanentFailure, match="no app push token"):
        provider(fake, []).send(DELIVERY)
    with pytest.raises(PermanentFailure, match="gone"):
        provider(fake, tokens("a")).send({**DELIVERY, "contact_id": "c2"})
    with pytest.raises(TemporaryFailure, match="503"):
        provider(fake, tokens("busy-1", "dead-2")).send(DELIVERY)


def test_an_access_token_fcm_refuses_is_asked_for_again(fake):
    sending = provider(fake, tokens("phone-token"))
    sending.send(DELIVERY)
    # A token FCM does not know (revoked): this try is retried, and the next asks the
    # token endpoint for a new access token and goes through.
    sending.tokens.token = "ya29.revoked"
    with pytest.raises(TemporaryFailure, match="401"):
        sending.send(DELIVERY)
    assert sending.tokens.token is None
    assert sending.send(DELIVERY).startswith(f"projects/{FCM_PROJECT}/messages/")


def test_an_unreachable_fcm_is_a_temporary_failure(fake):
    _, account_file, _ = fake
    sending = FcmProvider(
        {
            "service_account_file": str(account_file),
            "base_url": "http://127.0.0.1:9",
            "timeout": 2,
        }
    ).bind(Contacts(tokens("phone-token")))
    with pytest.raises(TemporaryFailure):
        sending.send(DELIVERY)
