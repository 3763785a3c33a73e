"""The messages API end to end: the whole suite sending through local servers that
speak each provider's protocol (tests/fake_providers.py: aiosmtpd for SMTP, HTTP for
the Twilio-style SMS, Telegram and Viber APIs, a Web Push service), with the statuses
flowing back through tracking links and signed webhooks, on SQLite and on PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from services.messaging.logic.signatures import twilio_signature
from tests.e2e.conftest import running_fake_providers, start_suite, stop_suite, suite_env
from tests.e2e.feeds import wait_feed
from tests.fake_providers import new_push_subscription, pushes, relay_webhook, viber_callback
from tests.polling import wait_for

TWILIO_TOKEN, TELEGRAM_SECRET, VIBER_TOKEN, SMTP_SECRET = (
    "twilio-token",
    "telegram-secret",
    "viber-token",
    "3b9e0d7c5a1f4e2b8d6c0a9f7e5d3c1b",
)


TTL = 6


@pytest.fixture(scope="module")
def providers(tmp_path_factory):
    yield from running_fake_providers(tmp_path_factory.mktemp("providers"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path_factory, providers):
    """The suite of conftest.py, with every sender pointed at the fake providers."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    data_dir = tmp_path_factory.mktemp(f"suite-{request.param}")
    env = suite_env(amqp_uri, data_dir, database_url)
    http = providers["http"]
    env.update(
        {
            "PLEXUS_TRACKING_BASE_URL": f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}",
            "PLEXUS_TRACKING_SECRET": "a0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d",
            "PLEXUS_SEND_RETRY_BACKOFF": "0.05",
            "PLEXUS_EMAIL_PROVIDER": "smtp",
            "PLEXUS_SMTP_PORT": str(providers["smtp_port"]),
            "PLEXUS_SMTP_FROM": "Shop <news@shop.example>",
            "PLEXUS_SMTP_WEBHOOK_SECRET": SMTP_SECRET,
            "PLEXUS_SMS_PROVIDER": "twilio",
            "PLEXUS_TWILIO_BASE_URL": http,
            "PLEXUS_TWILIO_ACCOUNT_SID": "AC0123",
            "PLEXUS_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "PLEXUS_TWILIO_FROM": "+15005550006",
            "PLEXUS_TELEGRAM_PROVIDER": "telegram",
            "PLEXUS_TELEGRAM_BASE_URL": http,
            "PLEXUS_TELEGRAM_TOKEN": "123:abc",
            "PLEXUS_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "PLEXUS_VIBER_PROVIDER": "viber",
            "PLEXUS_VIBER_BASE_URL": http,
            "PLEXUS_VIBER_TOKEN": VIBER_TOKEN,
            # No VAPID key configured: the sender makes one in the data dir at start.
            "PLEXUS_WEBPUSH_PROVIDER": "webpush",
            "PLEXUS_VAPID_SUBJECT": "mailto:ops@shop.example",
            # the fake push service is a push service of our own: allowed by its origin
            "PLEXUS_WEBPUSH_PUSH_SERVICES": providers["http"],
            # A sent push or Viber message not delivered within TTL seconds is `expired`,
            # looked for every EXPIRE seconds (days and 30 s in production).
            "PLEXUS_WEBPUSH_TTL": str(TTL),
            "PLEXUS_VIBER_TTL": str(TTL),
            "PLEXUS_EXPIRE_SECONDS": "0.5",
        }
    )
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


# ---------------------------------------------------------------- helpers


def contact(suite, **fields) -> dict:
    answer = suite.http().post(suite.url + "/v1/contacts", json=fields, timeout=15)
    assert answer.status_code == 201, answer.text
    return answer.json()


def send(suite, **body) -> requests.Response:
    return suite.http().post(suite.url + "/v1/messages", json=body, timeout=15)


def message(suite, message_id: str) -> dict:
    answer = suite.http().get(f"{suite.url}/v1/messages/{message_id}", timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def statuses(suite, message_id: str) -> list[str]:
    return [entry["status"] for entry in message(suite, message_id)["history"]]


def wait_status(suite, message_id: str, status: str) -> dict:
    return wait_for(
        lambda: status in statuses(suite, message_id) and message(suite, message_id),
        what=f"{status} on {message_id}",
    )


def received_emails(providers) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((providers["dir"] / "smtp").glob("*.eml"))
    ]


def email_for(providers, message_id: str):
    def find():
        return next(
            (m for m in received_emails(providers) if m["X-Plexus-Message-Id"] == message_id), None
        )

    return wait_for(find, what=f"email {message_id}")


def http_requests(providers, needle: str) -> list[dict]:
    path: Path = providers["dir"] / "http.jsonl"
    if not path.exists():
        return []
    return [
        entry
        for entry in map(json.loads, path.read_text().splitlines())
        if needle in json.dumps(entry["body"])
    ]


def unique_email() -> str:
    return f"m-{uuid.uuid4().hex[:8]}@shop-customer.example"


def unique_phone() -> str:
    return f"+38067{uuid.uuid4().int % 10**7:07d}"


# ---------------------------------------------------------------- email


def test_email_goes_through_smtp_tracked_and_unsubscribable(suite, providers):
    person = contact(suite, email=unique_email(), first_name="Olena")
    answer = send(
        suite,
        contact={"email": person["email"]},
        channel="email",
        origin="campaign",
        content={
            "subject": "Hello {{ first_name }}",
            "text": "Hi {{ first_name }}",
            "html": '<p>Hi {{ first_name }}, see <a href="https://shop.example/'
            'sale?id={{ data.sale }}">the sale</a></p>',
        },
        data={"sale": 7},
    )
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert queued["status"] == "queued"

    received = email_for(providers, queued["id"])
    assert received["To"] == person["email"] and received["Subject"] == "Hello Olena"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = re.fullmatch(r"<(.+)>", received["List-Unsubscribe"]).group(1)
    assert unsubscribe_url.startswith(suite.url + "/t/u/")
    html = received.get_body(("html",)).get_content()
    assert "Hi Olena" in html and "https://shop.example" not in html
    pixel = re.search(r'<img src="([^"]+)"', html).group(1)
    link = re.search(r'<a href="([^"]+)"', html).group(1).replace("&amp;", "&")

    # The server has the email before the sender reports it sent: open it after that.
    wait_status(suite, queued["id"], "sent")
    opened = requests.get(pixel, timeout=15)
    assert opened.status_code == 200 and opened.headers["Content-Type"] == "image/gif"
    clicked = requests.get(link, allow_redirects=False, timeout=15)
    assert clicked.status_code == 302
    assert clicked.headers["Location"] == "https://shop.example/sale?id=7"
    forged = requests.get(link[:-4] + "AAAA", allow_redirects=False, timeout=15)
    assert forged.status_code == 404

    stored = wait_status(suite, queued["id"], "click")
    assert [h["status"] for h in stored["history"]] == ["queued", "sent", "open", "click"]
    assert stored["content"]["subject"] == "Hello Olena" and stored["origin"] == "campaign"
    assert stored["history"][-1]["details"]["url"] == "https://shop.example/sale?id=7"

    def feed():
        items = (
            suite.http()
            .get(
                f"{suite.url}/v1/contacts/{person['id']}/activity",
                params={"channel": "email"},
                timeout=15,
            )
            .json()["data"]
        )
        kinds = [i["type"] for i in items if i.get("message_id") == queued["id"]]
        return kinds if {"sent", "open", "click"} <= set(kinds) else None

    assert wait_for(feed, what="the activity feed")[:3] == ["click", "open", "sent"]

    page = requests.get(unsubscribe_url, timeout=15)
    assert page.status_code == 200 and "<form method='post'>" in page.text
    done = requests.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"}, timeout=15)
    assert done.status_code == 200, done.text
    after = suite.http().get(f"{suite.url}/v1/contacts/{person['id']}", timeout=15).json()
    assert after["subscriptions"]["email"]["status"] == "unsubscribed"


def test_a_refused_contact_gets_409_and_reaches_no_provider(suite, providers):
    person = contact(suite, email=unique_email())
    suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/subscriptions/email",
        json={"status": "unsubscribed", "reason": "asked"},
        timeout=15,
    )
    refused = send(
        suite, contact={"id": person["id"]}, channel="email", content={"subject": "s", "text": "t"}
    )
    assert refused.status_code == 409, refused.text
    assert "not subscribed" in refused.json()["detail"]
    blocked = contact(suite, email=unique_email())
    suite.http().post(f"{suite.url}/v1/contacts/{blocked['id']}/deactivate", timeout=15)
    assert (
        send(
            suite,
            contact={"id": blocked["id"]},
            channel="email",
            content={"subject": "s", "text": "t"},
        ).status_code
        == 409
    )
    time.sleep(0.5)
    to = {m["To"] for m in received_emails(providers)}
    assert person["email"] not in to and blocked["email"] not in to


def email_listing(suite, person: dict) -> tuple[str, str]:
    """(the reason on the contact, the source on the account's list) of its email's
    black-listing; the list holds the address once."""
    listed = suite.http().get(f"{suite.url}/v1/contacts/{person['id']}", timeout=15).json()
    entry = (
        suite.http()
        .get(f"{suite.url}/v1/blacklists/email", timeout=15, params={"q": person["email"]})
        .json()["data"]
    )
    assert [e["value"] for e in entry] == [person["email"]]
    return listed["blacklists"]["email"]["reason"], entry[0]["source"]


def test_hard_bounce_webhook_blacklists_the_email(suite, providers):
    person = contact(suite, email=unique_email())
    queued = send(
        suite, contact={"id": person["id"]}, channel="email", content={"subject": "s", "text": "t"}
    ).json()
    wait_status(suite, queued["id"], "sent")
    event = {"message_id": queued["id"], "event": "hard_bounce", "reason": "550 5.1.1 user unknown"}
    body, headers = relay_webhook(SMTP_SECRET, event)
    unsigned = requests.post(suite.url + "/webhooks/smtp", data=body, timeout=15)
    assert unsigned.status_code == 403
    old_body, old_headers = relay_webhook(SMTP_SECRET, event, time.time() - 600)
    replayed = requests.post(
        suite.url + "/webhooks/smtp", data=old_body, timeout=15, headers=old_headers
    )
    assert replayed.status_code == 403
    signed = requests.post(suite.url + "/webhooks/smtp", data=body, timeout=15, headers=headers)
    assert signed.status_code == 200, signed.text
    assert statuses(suite, queued["id"])[-1] == "hard_bounce"
    assert email_listing(suite, person) == ("550 5.1.1 user unknown", "hard_bounce")

    # Someone takes the address off the list; the relay sends the same receipt again.
    assert suite.http().delete(
        f"{suite.url}/v1/blacklists/email/{person['email']}", timeout=15
    ).status_code in (200, 204)
    body, headers = relay_webhook(SMTP_SECRET, event)
    again = requests.post(suite.url + "/webhooks/smtp", data=body, timeout=15, headers=headers)
    assert again.status_code == 200, again.text
    listed = suite.http().get(f"{suite.url}/v1/contacts/{person['id']}", timeout=15).json()
    assert listed["blacklists"]["email"] is None


def test_smtp_refusing_the_recipient_is_a_hard_bounce(suite):
    person = contact(suite, email=f"gone-{uuid.uuid4().hex[:6]}@bounce.example")
    queued = send(
        suite, contact={"id": person["id"]}, channel="email", content={"subject": "s", "text": "t"}
    ).json()
    stored = wait_status(suite, queued["id"], "hard_bounce")
    assert "550" in stored["history"][-1]["details"]["reason"]
    # The address that can never take mail is on the account's black list.
    entry = wait_for(
        lambda: (
            suite.http()
            .get(f"{suite.url}/v1/blacklists/email", params={"q": person["email"]}, timeout=15)
            .json()["data"]
        ),
        15,
        "the bounced address on the black list",
    )
    assert [(e["value"], e["source"]) for e in entry] == [(person["email"], "hard_bounce")]


# ---------------------------------------------------------------- sms, telegram, viber


def test_sms_retried_through_failures_sent_once_and_receipt_signed(suite, providers):
    person = contact(suite, phone=unique_phone())
    suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/subscriptions/sms",
        json={"status": "subscribed"},
        timeout=15,
    )
    text = f"[flaky] your code {uuid.uuid4().hex[:6]}"
    queued = send(
        suite, contact={"phone": person["phone"]}, channel="sms", content={"body": text}
    ).json()
    stored = wait_status(suite, queued["id"], "sent")
    tries = http_requests(providers, text)
    assert len(tries) == 3  # two 503s, then accepted
    assert tries[-1]["body"] == {"To": person["phone"], "From": "+15005550006", "Body": text}
    assert tries[-1]["path"] == "/2010-04-01/Accounts/AC0123/Messages.json"
    time.sleep(0.3)
    assert statuses(suite, queued["id"]) == ["queued", "sent"]

    sid = stored["history"][1]["details"]["provider_id"]
    url = suite.url + "/webhooks/twilio"
    form = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert (
        requests.post(
            url, data=form, timeout=15, headers={"X-Twilio-Signature": "forged"}
        ).status_code
        == 403
    )
    answer = requests.post(
        url,
        data=form,
        timeout=15,
        headers={"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, form)},
    )
    assert answer.status_code == 200, answer.text
    assert statuses(suite, queued["id"])[-1] == "delivered"


def telegram_contact(suite, chat: str) -> dict:
    person = contact(suite, user_id=f"tg-{chat}")
    suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/channels/telegram",
        json={"chat_id": chat},
        timeout=15,
    )
    return person


def test_telegram_send_and_an_unknown_chat(suite, providers):
    chat = str(100000 + uuid.uuid4().int % 10**6)
    person = telegram_contact(suite, chat)
    queued = send(
        suite,
        contact={"user_id": person["user_id"]},
        channel="telegram",
        content={"body": "Order {{ data.n }} shipped"},
        data={"n": chat},
    ).json()
    wait_status(suite, queued["id"], "sent")
    sent = http_requests(providers, f"Order {chat} shipped")
    assert sent[-1]["path"] == "/bot123:abc/sendMessage"
    assert sent[-1]["body"] == {"chat_id": chat, "text": f"Order {chat} shipped"}

    gone = contact(suite, user_id=f"tg-gone-{uuid.uuid4().hex[:6]}")
    suite.http().put(
        f"{suite.url}/v1/contacts/{gone['id']}/channels/telegram",
        json={"chat_id": "404"},
        timeout=15,
    )
    failed = send(
        suite, contact={"id": gone["id"]}, channel="telegram", content={"body": "hello"}
    ).json()
    assert (
        "chat not found"
        in wait_status(suite, failed["id"], "failed")["history"][-1]["details"]["reason"]
    )
    secret_ok = requests.post(
        suite.url + "/webhooks/telegram",
        json={"update_id": 1},
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=15,
    )
    assert secret_ok.status_code == 200
    assert (
        requests.post(
            suite.url + "/webhooks/telegram", json={"update_id": 1}, timeout=15
        ).status_code
        == 403
    )


def test_viber_takes_approved_templates_and_signed_receipts(suite, providers):
    viber_user = f"vb-{uuid.uuid4().hex[:8]}"
    person = contact(suite, user_id=viber_user, first_name="Taras")
    suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/channels/viber",
        json={"user_id": viber_user},
        timeout=15,
    )
    draft = (
        suite.http()
        .post(
            suite.url + "/v1/templates",
            timeout=15,
            json={"name": "welcome", "channel": "viber", "body": "Welcome, {{ first_name }}!"},
        )
        .json()
    )
    assert draft["approved"] is False
    refused = send(suite, contact={"id": person["id"]}, channel="viber", template_id=draft["id"])
    assert refused.status_code == 409, refused.text
    approved = (
        suite.http()
        .patch(f"{suite.url}/v1/templates/{draft['id']}", json={"approved": True}, timeout=15)
        .json()
    )
    assert approved["approved"] is True
    queued = send(
        suite, contact={"id": person["id"]}, channel="viber", template_id=draft["id"]
    ).json()
    stored = wait_status(suite, queued["id"], "sent")
    assert stored["content"] == {"body": "Welcome, Taras!"}
    assert stored["template_id"] == draft["id"]
    request = http_requests(providers, viber_user)[-1]
    assert request["headers"]["X-Viber-Auth-Token"] == VIBER_TOKEN
    assert request["body"]["text"] == "Welcome, Taras!"

    token = stored["history"][1]["details"]["provider_id"]
    stale = viber_callback(VIBER_TOKEN, "delivered", int(token), time.time() - 600)
    assert (
        requests.post(
            suite.url + "/webhooks/viber", data=stale[0], headers=stale[1], timeout=15
        ).status_code
        == 403
    )
    for event in ("delivered", "seen"):
        body, headers = viber_callback(VIBER_TOKEN, event, int(token))
        answer = requests.post(
            suite.url + "/webhooks/viber", data=body, timeout=15, headers=headers
        )
        assert answer.status_code == 200, answer.text
    assert statuses(suite, queued["id"])[-2:] == ["delivered", "open"]

    again = suite.http().post(f"{suite.url}/v1/messages/{queued['id']}/resend", timeout=15)
    assert again.status_code == 202, again.text
    resent = wait_status(suite, again.json()["id"], "sent")
    assert resent["resend_of"] == queued["id"] and resent["content"] == stored["content"]


# ---------------------------------------------------------------- web push


def browser_subscribes(suite, providers, person: dict, answer: int = 201) -> dict:
    """A browser subscribing with the application server key `plexus webpush
    public-key` prints, registered on the contact through the API."""
    printed = suite.plexus("webpush", "public-key")
    assert printed.returncode == 0, printed.stderr
    subscription = new_push_subscription(
        providers["dir"], providers["http"], printed.stdout.strip(), "desktop", answer
    )
    made = suite.http().post(
        f"{suite.url}/v1/contacts/{person['id']}/channels/webpush", json=subscription, timeout=15
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_webpush_is_encrypted_to_the_browser_and_signed_with_vapid(suite, providers):
    person = contact(suite, user_id=f"wp-{uuid.uuid4().hex[:8]}")
    subscription = browser_subscribes(suite, providers, person)
    push_id = subscription["endpoint"].rsplit("/", 1)[1]
    queued = send(
        suite,
        contact={"id": person["id"]},
        channel="webpush_desktop",
        content={"body": "Order {{ data.n }} shipped"},
        data={"n": 7},
    ).json()

    stored = wait_status(suite, queued["id"], "sent")
    received = [p for p in pushes(providers["dir"]) if p["subscription"] == push_id]
    assert [(p["payload"]["message_id"], p["payload"]["body"]) for p in received] == [
        (queued["id"], "Order 7 shipped")
    ]
    assert "." in received[0]["payload"]["token"]  # what the service worker reports with
    assert received[0]["claims"]["aud"] == providers["http"]
    assert received[0]["claims"]["sub"] == "mailto:ops@shop.example"
    assert stored["history"][-1]["details"]["provider"] == "webpush"
    assert stored["history"][-1]["details"]["provider_id"].startswith(
        providers["http"] + "/message/"
    )


def test_a_gone_push_subscription_ends_undelivered_and_is_removed(suite, providers):
    person = contact(suite, user_id=f"wp-{uuid.uuid4().hex[:8]}")
    browser_subscribes(suite, providers, person, answer=410)
    queued = send(
        suite, contact={"id": person["id"]}, channel="webpush_desktop", content={"body": "hello"}
    ).json()

    ended = wait_status(suite, queued["id"], "undelivered")
    assert "HTTP 410" in ended["history"][-1]["details"]["reason"]
    after = suite.http().get(f"{suite.url}/v1/contacts/{person['id']}", timeout=15).json()
    assert after["channels"]["webpush"] == []
    refused = send(
        suite, contact={"id": person["id"]}, channel="webpush_desktop", content={"body": "again"}
    )
    assert refused.status_code == 409, refused.text


def test_bad_input_is_422_and_unknown_message_404(suite):
    bad = send(suite, contact={"email": unique_email()}, channel="pigeon", content={})
    assert bad.status_code == 422 and "channel" in bad.json()["errors"]
    unsafe = suite.http().post(
        suite.url + "/v1/templates",
        timeout=15,
        json={"name": "x", "channel": "sms", "body": "{% for x in %}"},
    )
    assert unsafe.status_code == 422
    assert suite.http().get(suite.url + "/v1/messages/nope", timeout=15).status_code == 404


# ---------------------------------------------------------------- every status's producer
# docs/statuses.md names, for each (channel, status) pair, the test below (or above) that
# makes it through the gateway and sees it in the contact's feed.


TRACKED = re.compile(r"http://127\.0\.0\.1:\d+/t/c/([\w-]+)")


def tracked_link(text: str) -> str:
    found = TRACKED.search(text)
    assert found, text
    return found.group(0)


def twilio_receipt(suite, sid: str, status: str) -> None:
    url = suite.url + "/webhooks/twilio"
    form = {"MessageSid": sid, "MessageStatus": status}
    signature = twilio_signature(TWILIO_TOKEN, url, form)
    answer = requests.post(url, data=form, timeout=15, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text


def sms_contact(suite) -> dict:
    person = contact(suite, phone=unique_phone())
    suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/subscriptions/sms",
        json={"status": "subscribed"},
        timeout=15,
    )
    return person


def test_sms_links_are_short_signed_and_clicked_and_receipts_fail_or_reject(suite, providers):
    person = sms_contact(suite)
    code = uuid.uuid4().hex[:6]
    text = f"Sale {code}: https://shop.example/sale?id=7. Reply STOP to opt out"
    queued = send(suite, contact={"id": person["id"]}, channel="sms", content={"body": text}).json()
    sent = wait_status(suite, queued["id"], "sent")
    (request,) = http_requests(providers, f"Sale {code}")
    body = request["body"]["Body"]
    link = tracked_link(body)
    assert "shop.example" not in body and body.endswith(". Reply STOP to opt out")
    assert len(body) <= 160  # one SMS segment, the link included
    assert len(link.rsplit("/", 1)[1]) == 40
    forged = requests.get(link[:-3] + "AAA", allow_redirects=False, timeout=15)
    assert forged.status_code == 404
    clicked = requests.get(link, allow_redirects=False, timeout=15)
    assert clicked.status_code == 302, clicked.text
    assert clicked.headers["Location"] == "https://shop.example/sale?id=7"
    twilio_receipt(suite, sent["history"][1]["details"]["provider_id"], "delivered")
    ids = {"sent": queued["id"], "click": queued["id"], "delivered": queued["id"]}
    # Twilio's `undelivered` is our `fail` (the carrier could not), `failed` a `reject`.
    for twilio_status, status in (("undelivered", "fail"), ("failed", "reject")):
        other = send(suite, contact={"id": person["id"]}, channel="sms", content={"body": "hi"})
        stored = wait_status(suite, other.json()["id"], "sent")
        twilio_receipt(suite, stored["history"][1]["details"]["provider_id"], twilio_status)
        ids[status] = stored["id"]
    wait_feed(suite, person["id"], "sms", {(status, m) for status, m in ids.items()})
    click = next(h for h in message(suite, queued["id"])["history"] if h["status"] == "click")
    assert click["details"] == {"url": "https://shop.example/sale?id=7"}


def test_telegram_is_delivered_when_the_bot_api_takes_it_and_its_link_clicked(suite, providers):
    chat = str(200000 + uuid.uuid4().int % 10**6)
    person = telegram_contact(suite, chat)
    queued = send(
        suite,
        contact={"id": person["id"]},
        channel="telegram",
        content={"body": f"Track {chat}: https://shop.example/track/{chat}"},
    ).json()
    wait_status(suite, queued["id"], "delivered")
    assert statuses(suite, queued["id"])[:3] == ["queued", "sent", "delivered"]
    link = tracked_link(http_requests(providers, f"Track {chat}")[-1]["body"]["text"])
    clicked = requests.get(link, allow_redirects=False, timeout=15)
    assert clicked.headers["Location"] == f"https://shop.example/track/{chat}"
    wait_feed(
        suite,
        person["id"],
        "telegram",
        {("sent", queued["id"]), ("delivered", queued["id"]), ("click", queued["id"])},
    )


def viber_receipt(suite, event: str, token: str) -> None:
    body, headers = viber_callback(VIBER_TOKEN, event, int(token))
    answer = requests.post(suite.url + "/webhooks/viber", data=body, timeout=15, headers=headers)
    assert answer.status_code == 200, answer.text


def viber_contact(suite, viber_user: str) -> dict:
    person = contact(suite, user_id=f"vb-{uuid.uuid4().hex[:8]}")
    made = suite.http().put(
        f"{suite.url}/v1/contacts/{person['id']}/channels/viber",
        json={"user_id": viber_user},
        timeout=15,
    )
    assert made.status_code == 200, made.text
    return person


def test_viber_click_fail_reject_and_expired(suite, providers):
    person = viber_contact(suite, f"vb-{uuid.uuid4().hex[:8]}")
    template = (
        suite.http()
        .post(
            suite.url + "/v1/templates",
            timeout=15,
            json={
                "name": "offer",
                "channel": "viber",
                "body": "Offer {{ data.n }}: https://shop.example/offer",
                "approved": True,
            },
        )
        .json()
    )

    def viber_send(to: dict, n: str) -> str:
        answer = send(suite, contact=to, channel="viber", template_id=template["id"], data={"n": n})
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    clicked_id, failed_id, silent_id = (viber_send({"id": person["id"]}, n) for n in "abc")
    tokens = {
        m: wait_status(suite, m, "sent")["history"][1]["details"]["provider_id"]
        for m in (clicked_id, failed_id, silent_id)
    }
    viber_receipt(suite, "delivered", tokens[clicked_id])
    link = tracked_link(http_requests(providers, "Offer a:")[-1]["body"]["text"])
    assert requests.get(link, allow_redirects=False, timeout=15).status_code == 302
    viber_receipt(suite, "failed", tokens[failed_id])
    # Status 3 (bad data) at send time: the message can never go as it is.
    refused = viber_contact(suite, "badmsg")
    rejected_id = viber_send({"id": refused["id"]}, "d")
    assert (
        "badData" in wait_status(suite, rejected_id, "reject")["history"][-1]["details"]["reason"]
    )
    # No word from Viber within the TTL: expired; the others heard back, so never expire.
    assert wait_status(suite, silent_id, "expired")["status"] == "expired"
    wait_feed(
        suite,
        person["id"],
        "viber",
        {("sent", clicked_id), ("click", clicked_id), ("fail", failed_id), ("expired", silent_id)},
    )
    wait_feed(suite, refused["id"], "viber", {("reject", rejected_id)})
    assert "expired" not in statuses(suite, clicked_id) + statuses(suite, failed_id)


def test_webpush_service_worker_reports_and_an_unreported_push_expires(suite, providers):
    person = contact(suite, user_id=f"wp-{uuid.uuid4().hex[:8]}")
    subscription = browser_subscribes(suite, providers, person)
    push_id = subscription["endpoint"].rsplit("/", 1)[1]
    shown, silent = (
        send(
            suite, contact={"id": person["id"]}, channel="webpush_desktop", content={"body": b}
        ).json()["id"]
        for b in ("shown", "silent")
    )
    wait_status(suite, shown, "sent")
    payload = next(
        p["payload"]
        for p in pushes(providers["dir"])
        if p["subscription"] == push_id and p["payload"]["message_id"] == shown
    )
    report = f"{suite.url}/t/p/{payload['token']}"

    def post(event, url=report):
        return requests.post(url, json={"event": event}, timeout=15)  # no API key

    assert post("delivered").json()["recorded"] == ["delivered"]
    assert post("click").json() == {
        "message_id": shown,
        "event": "click",
        "recorded": ["open", "click"],
    }
    assert post("click").json()["recorded"] == [] and post("delivered").json()["recorded"] == []
    assert post("dismissed").json()["recorded"] == ["dismissed"]
    unknown = post("read")
    assert unknown.status_code == 422 and "event" in unknown.json()["errors"]
    assert post("click", report[:-3] + "AAA").status_code == 404
    assert statuses(suite, shown) == ["queued", "sent", "delivered", "open", "click", "dismissed"]
    assert wait_status(suite, silent, "expired")["history"][-1]["status"] == "expired"
    wait_feed(
        suite,
        person["id"],
        "webpush_desktop",
        {(s, shown) for s in ("sent", "delivered", "open", "click", "dismissed")}
        | {("expired", silent)},
    )


def relay(suite, message_id: str, event: str, reason: str | None = None) -> None:
    body, headers = relay_webhook(
        SMTP_SECRET, {"message_id": message_id, "event": event, "reason": reason}
    )
    answer = requests.post(suite.url + "/webhooks/smtp", data=body, timeout=15, headers=headers)
    assert answer.status_code == 200, answer.text


def test_relay_receipts_and_a_complaint_blacklists_the_email(suite):
    person = contact(suite, email=unique_email())
    ids = {}
    for event in ("delivered", "soft_bounce", "reject", "complaint"):
        queued = send(
            suite,
            contact={"id": person["id"]},
            channel="email",
            content={"subject": event, "text": "t"},
        ).json()
        wait_status(suite, queued["id"], "sent")
        relay(suite, queued["id"], event, f"relay said {event}")
        ids[event] = queued["id"]
    wait_feed(suite, person["id"], "email", {(event, m) for event, m in ids.items()})
    assert email_listing(suite, person) == ("relay said complaint", "complaint")
    refused = send(
        suite, contact={"id": person["id"]}, channel="email", content={"subject": "s", "text": "t"}
    )
    assert refused.status_code == 409, refused.text


def test_subscribing_and_unsubscribing_every_channel_is_in_its_feed(suite, providers):
    viber_user = f"vb-{uuid.uuid4().hex[:8]}"
    person = contact(suite, email=unique_email(), phone=unique_phone(), user_id=viber_user)
    base = f"{suite.url}/v1/contacts/{person['id']}"
    suite.http().put(base + "/channels/telegram", json={"chat_id": "77"}, timeout=15)
    suite.http().put(base + "/channels/viber", json={"user_id": viber_user}, timeout=15)
    browser_subscribes(suite, providers, person)
    channels = ("email", "sms", "telegram", "viber", "webpush_desktop")
    for status in ("unsubscribed", "subscribed"):
        for channel in channels:
            changed = suite.http().put(
                f"{base}/subscriptions/{channel}", json={"status": status}, timeout=15
            )
            assert changed.status_code == 200, (channel, changed.text)
    for channel in channels:
        wait_feed(suite, person["id"], channel, {("subscribed", None), ("unsubscribed", None)})
