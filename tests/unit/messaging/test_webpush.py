"""The Web Push provider without a network: the aes128gcm payload a browser decrypts,
the VAPID header a push service accepts (checked by the fake push service's own
verifier), what each push service answer means, and one message to several
subscriptions with one of them gone."""

import json
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization

from plexus.errors import NotFound, Unavailable
from plexus.push_services import PushServices
from services.messaging.senders.base import ChannelConsumer
from services.messaging.senders.providers import PermanentFailure, TemporaryFailure, vapid
from services.messaging.senders.providers import webpush as provider_module
from services.messaging.senders.providers.push_encryption import (
    MAX_PAYLOAD,
    PayloadTooLarge,
    encrypt,
)
from services.messaging.senders.providers.webpush import (
    ACCEPTED,
    REFUSED,
    REMOVED,
    RETRY,
    Answer,
    WebpushProvider,
    conclude,
    read_answer,
)
from tests.fake_providers import b64url_decode, new_push_subscription, verify_vapid

SUBJECT = "mailto:ops@shop.example"
PRIVATE = vapid.new_private_key()
APP_KEY = vapid.public_key(vapid.load(PRIVATE))
DELIVERY = {
    "message_id": "m1",
    "contact_id": "c1",
    "channel": "webpush_desktop",
    "to": [],
    "content": {"body": "Your order shipped"},
    "report_token": "tok.en",
}


def browser(tmp_path, answer=201, device="desktop"):
    """A subscription as contacts answers it, and the browser's private key and secret."""
    made = new_push_subscription(tmp_path, "https://push.example", APP_KEY, device, answer)
    sub_id = made["endpoint"].rsplit("/", 1)[1]
    kept = json.loads((tmp_path / "push" / f"{sub_id}.json").read_text())
    key = serialization.load_pem_private_key(kept["private_key"].encode(), password=None)
    return {"id": sub_id, **made}, key, b64url_decode(kept["auth"])


def headers(**values) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def test_the_payload_decrypts_with_the_browsers_key_only(tmp_path):
    subscription, key, auth = browser(tmp_path)
    body = encrypt(b'{"body": "hi"}', **subscription["keys"])
    assert body[:16] != body[16:32] and len(body) == 16 + 4 + 1 + 65 + 14 + 17
    assert (
        http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
        == b'{"body": "hi"}'
    )
    with pytest.raises(PayloadTooLarge):
        encrypt(b"x" * (MAX_PAYLOAD + 1), **subscription["keys"])


def test_the_vapid_header_is_what_a_push_service_checks():
    signer = vapid.load(PRIVATE)
    header = vapid.authorization(signer, "https://fcm.example:8443/push/abc?x=1", SUBJECT)
    claims, key = verify_vapid(header, "https://fcm.example:8443")
    assert key == APP_KEY and claims["sub"] == SUBJECT
    with pytest.raises(ValueError, match="aud"):
        verify_vapid(header, "https://other.example")
    stale = vapid.authorization(signer, "https://fcm.example/", SUBJECT, now=0)
    with pytest.raises(ValueError, match="exp"):
        verify_vapid(stale, "https://fcm.example")


def test_the_vapid_key_is_made_once_unless_configured(tmp_path):
    config = {"DATA_DIR": str(tmp_path)}
    made = vapid.private_key(config)
    assert vapid.private_key(config) == made
    assert (tmp_path / "vapid-private-key").stat().st_mode & 0o777 == 0o600
    configured = {**config, "MESSAGING": {"providers": {"webpush": {"vapid_private_key": PRIVATE}}}}
    assert vapid.private_key(configured) == PRIVATE
    with pytest.raises(ValueError, match="vapid_subject"):
        WebpushProvider({"vapid_subject": "admin"}, PRIVATE)


@pytest.mark.parametrize(
    "status, answer_headers, kind, retry_after",
    [
        (201, headers(Location="https://push.example/m/1"), ACCEPTED, None),
        (404, headers(), REMOVED, None),
        (410, headers(), REMOVED, None),
        (429, headers(Retry_After="7"), RETRY, 7.0),
        (503, headers(Retry_After="Wed, 21 Oct 2026 07:28:00 GMT"), RETRY, None),
        (401, headers(), RETRY, None),
        (403, headers(), REFUSED, None),
        (413, headers(), REFUSED, None),
    ],
)
def test_what_each_push_service_answer_means(status, answer_headers, kind, retry_after):
    answer = read_answer("s1", status, answer_headers)
    assert (answer.kind, answer.retry_after) == (kind, retry_after)


def test_one_accepted_push_sends_else_retry_else_undelivered():
    accepted, gone = Answer(ACCEPTED, "https://push.example/m/1"), Answer(REMOVED, "s2: 410")
    assert conclude([gone, accepted]) == "https://push.example/m/1"
    with pytest.raises(TemporaryFailure) as retried:
        conclude([gone, Answer(RETRY, "s3: 429", 7.0), Answer(RETRY, "s4: 503")])
    assert retried.value.retry_after == 7.0
    with pytest.raises(PermanentFailure) as ended:
        conclude([gone, Answer(REFUSED, "s5: 403")])
    assert ended.value.status == "undelivered" and "410" in ended.value.reason


def test_the_sender_waits_as_long_as_the_push_service_asked():
    consumer = ChannelConsumer("webpush")
    consumer.base_backoff = 0.5
    assert consumer.backoff(2) == 1.0
    assert consumer.backoff(2, TemporaryFailure("429", retry_after=7.0)) == 7.0
    assert consumer.backoff(2, TemporaryFailure("429", retry_after=600.0)) == 60.0


class Contacts:
    def __init__(self, subscriptions):
        self.subscriptions, self.removed = subscriptions, []

    def webpush_subscriptions(self, contact_id, device):
        if contact_id == "busy":
            raise Unavailable("the contacts service did not answer within 10 s")
        if contact_id != "c1":
            raise NotFound("no such contact")
        return [s for s in self.subscriptions if s["device"] == device]

    def remove_webpush_subscription(self, contact_id, subscription_id, actor):
        self.removed.append(subscription_id)


def test_a_message_goes_to_every_subscription_of_its_device(tmp_path, monkeypatch):
    live, key, auth = browser(tmp_path)
    gone, _, _ = browser(tmp_path, answer=410)
    phone, _, _ = browser(tmp_path, device="mobile")
    posted = []

    def post_bytes(url, data, request_headers, timeout):
        posted.append((url, data, request_headers))
        if url == gone["endpoint"]:
            return 410, headers(), b""
        return 201, headers(Location="https://push.example/m/9"), b""

    monkeypatch.setattr(provider_module, "post_bytes", post_bytes)
    contacts = Contacts([live, gone, phone])
    provider = WebpushProvider(
        {"vapid_subject": SUBJECT, "ttl": "60"},
        PRIVATE,
        push_services=PushServices.parse("push.example"),
    ).bind(contacts)

    assert provider.send(DELIVERY) == "https://push.example/m/9"
    assert [url for url, _, _ in posted] == [live["endpoint"], gone["endpoint"]]
    assert contacts.removed == [gone["id"]]
    url, data, sent_headers = posted[0]
    assert json.loads(
        http_ece.decrypt(data, private_key=key, auth_secret=auth, version="aes128gcm")
    ) == {"message_id": "m1", "body": "Your order shipped", "token": "tok.en"}
    assert sent_headers["Content-Encoding"] == "aes128gcm" and sent_headers["TTL"] == "60"
    assert verify_vapid(sent_headers["Authorization"], "https://push.example")[1] == APP_KEY

    contacts.subscriptions = [gone]
    with pytest.raises(PermanentFailure) as ended:
        provider.send(DELIVERY)
    assert ended.value.status == "undelivered"
    with pytest.raises(PermanentFailure, match="no desktop push subscription"):
        provider.bind(Contacts([])).send(DELIVERY)
    with pytest.raises(PermanentFailure, match="contact is gone"):
        provider.send({**DELIVERY, "contact_id": "c2"})
    with pytest.raises(TemporaryFailure, match="contacts"):
        provider.send({**DELIVERY, "contact_id": "busy"})


def test_an_endpoint_off_the_allowed_push_services_is_never_requested(tmp_path, monkeypatch):
    stored, _, _ = browser(tmp_path)  # stored before the list changed, say
    metadata = {**stored, "endpoint": "http://169.254.169.254/latest/meta-data/"}
    posted = []
    monkeypatch.setattr(
        provider_module,
        "post_bytes",
        lambda url, *args: posted.append(url) or (201, headers(), b""),
    )
    provider = WebpushProvider({"vapid_subject": SUBJECT}, PRIVATE).bind(
        Contacts([metadata, stored])
    )  # the default list: browsers' push services only

    with pytest.raises(PermanentFailure) as ended:
        provider.send(DELIVERY)
    assert posted == []
    assert "169.254.169.254 is not an allowed push service" in ended.value.reason
    assert "push.example is not an allowed push service" in ended.value.reason


def test_a_push_service_redirect_is_not_followed(tmp_path):
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            # urllib follows a 302 to a POST with a GET (a 307 it would not follow)
            self.send_response(302 if self.path.startswith("/push/") else 201)
            self.send_header("Location", f"http://127.0.0.1:{port}/internal/admin")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        made = new_push_subscription(tmp_path, f"http://127.0.0.1:{port}", APP_KEY)
        subscription = {"id": made["endpoint"].rsplit("/", 1)[1], **made}
        provider = WebpushProvider(
            {"vapid_subject": SUBJECT},
            PRIVATE,
            push_services=PushServices.parse(f"http://127.0.0.1:{port}"),
        ).bind(Contacts([subscription]))
        with pytest.raises(PermanentFailure, match="HTTP 302"):
            provider.send(DELIVERY)
    finally:
        server.shutdown()
        server.server_close()
    assert [path.split("/")[1] for path in hits] == ["push"]
