"""Consent judged when a message goes out, end to end: messages wait behind a slow sender
(the outbox provider limited to a few sends a second), consent changes through the API
while they wait, and no provider call is made once the change has answered; what did
not go out ends `suppressed` with its reason, in its history and the feed. Erasure stops
everything still queued and deletes the provider's files of the contact.

The provider here is the outbox one: each send writes
<outbox>/<channel>/<contact id>/<message id>.json, and the file's time is the moment of
the provider call."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.fake_providers import new_push_subscription
from tests.polling import wait_for

RATE = 5  # sends a second per sender: 40 emails take 7 s (after a burst of 5)
# A provider call the claim allowed just before a change answered may land this much
# after it (the claim and the file write are a few ms apart; more on a loaded machine).
IN_FLIGHT = 0.5
FINAL = {"sent", "suppressed"}


@pytest.fixture(scope="module")
def suite(amqp_uri, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("consent")
    env = suite_env(amqp_uri, data_dir, None)
    env.update(
        {
            "PLEXUS_OUTBOX_RATE_LIMIT": str(RATE),
            "PLEXUS_SEND_RATE_LIMIT_PER_SECOND": "1000",
            "PLEXUS_SEND_RATE_LIMIT_BURST": "1000",
        }
    )
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


def outbox(suite) -> Path:
    return Path(suite.env["PLEXUS_OUTBOX_DIR"])


def provider_calls(suite, contact_id: str) -> dict[str, float]:
    """message id -> when the provider was handed it, on any channel."""
    return {
        path.stem: path.stat().st_mtime for path in outbox(suite).glob(f"*/{contact_id}/*.json")
    }


def new_contact(http, suite, **fields) -> dict:
    tag = uuid.uuid4().hex[:12]
    answer = http.post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={
            "email": f"c-{tag}@example.com",
            "phone": f"+38050{int(tag[:7], 16) % 10**7:07d}",
            **fields,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def queue(
    http, suite, contact_id: str, channel: str, count: int, category: str | None = None
) -> list[str]:
    content = {"subject": "Hello", "text": "Hello", "body": "Hello"}
    ids = []
    for n in range(count):
        answer = http.post(
            suite.url + "/v1/messages",
            timeout=15,
            json={
                "contact": {"id": contact_id},
                "channel": channel,
                "category": category,
                "content": {**content, "text": f"Hello {n}"},
            },
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


def statuses(http, suite, ids: list[str]) -> dict[str, dict]:
    found = {}
    for message_id in ids:
        answer = http.get(f"{suite.url}/v1/messages/{message_id}", timeout=15)
        if answer.status_code == 200:
            found[message_id] = answer.json()
    return found


def settled(http, suite, ids: list[str], seconds: float = 60) -> dict[str, dict]:
    return wait_for(
        lambda: (
            (s := statuses(http, suite, ids))
            and all(m["status"] in FINAL for m in s.values())
            and s
        ),
        seconds,
        "every message to settle",
    )


def test_unsubscribing_stops_every_email_still_queued(suite):
    http = suite.http()
    contact = new_contact(http, suite)
    started = time.time()
    ids = queue(http, suite, contact["id"], "email", 40)
    time.sleep(max(0.0, started + 1.5 - time.time()))
    assert len(provider_calls(suite, contact["id"])) < 30, "the sender is not slow enough"
    answer = http.put(
        f"{suite.url}/v1/contacts/{contact['id']}/subscriptions/email",
        json={"status": "unsubscribed", "reason": "asked"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    changed = time.time()

    messages = settled(http, suite, ids)
    calls = provider_calls(suite, contact["id"])
    late = {m: at - changed for m, at in calls.items() if at > changed + IN_FLIGHT}
    assert late == {}, "provider calls after the unsubscribe answered"
    sent = {m for m, message in messages.items() if message["status"] == "sent"}
    suppressed = {m for m, message in messages.items() if message["status"] == "suppressed"}
    assert sent == set(calls) and sent | suppressed == set(ids)
    assert sent and suppressed, (len(sent), len(suppressed))
    for message_id in suppressed:
        last = messages[message_id]["history"][-1]
        assert (last["status"], last["details"]["reason"]) == ("suppressed", "unsubscribed")

    feed_url = (
        f"{suite.url}/v1/contacts/{contact['id']}/activity?channel=email&type=suppressed&period=7d"
    )
    feed = wait_for(
        lambda: (
            (data := http.get(feed_url, timeout=15).json()["data"])
            and len(data) == len(suppressed)
            and data
        ),
        15,
        "a feed item for each suppressed message",
    )
    assert {item["message_id"] for item in feed} == suppressed


def reachable_on(http, suite, channel: str, tmp_path: Path) -> dict:
    """A contact with an address on the channel (subscribed as it is added)."""
    viber_user = f"vb-{uuid.uuid4().hex[:8]}"
    contact = new_contact(http, suite, user_id=viber_user)
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    if channel == "telegram":
        assert http.put(f"{url}/channels/telegram", json={"chat_id": "5"}, timeout=15).ok
    if channel == "viber":
        assert http.put(f"{url}/channels/viber", json={"user_id": viber_user}, timeout=15).ok
    if channel == "webpush_desktop":
        browser = new_push_subscription(tmp_path, "https://fcm.googleapis.com/fcm/send", "key")
        assert http.post(f"{url}/channels/webpush", json=browser, timeout=15).status_code == 201
    if channel == "app_push":
        device = {"token": f"fcm-{uuid.uuid4().hex}", "platform": "ios", "app": "com.shop"}
        assert http.post(f"{url}/channels/app_push", json=device, timeout=15).status_code == 201
    return contact


def test_a_message_waiting_on_any_channel_ends_suppressed_in_its_feed(suite, tmp_path):
    """The claim is the same for every channel: SMS, Telegram, Viber, web push and app
    push messages waiting behind their sender when their contact is deactivated end
    `suppressed`, each in its channel's feed. A contact a channel: each is deactivated
    right after its 20 messages are queued, which take 3 s to go at RATE a second."""
    http = suite.http()
    template = http.post(
        suite.url + "/v1/templates",
        json={"name": "hello", "channel": "viber", "body": "Hello", "approved": True},
        timeout=15,
    ).json()
    ids: dict[str, list[str]] = {}
    contacts = {}
    for channel in ("sms", "telegram", "viber", "webpush_desktop", "app_push"):
        contact = contacts[channel] = reachable_on(http, suite, channel, tmp_path)
        if channel == "viber":
            ids[channel] = [
                http.post(
                    suite.url + "/v1/messages",
                    json={"contact": {"id": contact["id"]}, "channel": channel,
                          "template_id": template["id"]},
                    timeout=15,
                ).json()["id"]
                for _ in range(20)
            ]  # fmt: skip
        else:
            ids[channel] = queue(http, suite, contact["id"], channel, 20)
        deactivated = http.post(f"{suite.url}/v1/contacts/{contact['id']}/deactivate", timeout=15)
        assert deactivated.status_code == 200, deactivated.text
    messages = settled(http, suite, [m for group in ids.values() for m in group])
    for channel, contact in contacts.items():
        suppressed = {m for m in ids[channel] if messages[m]["status"] == "suppressed"}
        assert suppressed, f"every {channel} message went before the deactivation"
        assert {messages[m]["history"][-1]["details"]["reason"] for m in suppressed} == {"inactive"}
        feed_url = (
            f"{suite.url}/v1/contacts/{contact['id']}/activity"
            f"?channel={channel}&type=suppressed&period=7d"
        )
        wait_for(
            lambda url=feed_url, want=suppressed: (
                {i["message_id"] for i in http.get(url, timeout=15).json()["data"]} == want
            ),
            30,
            f"the suppressed {channel} messages in the feed",
        )


def test_erasure_stops_everything_queued_and_deletes_the_providers_files(suite):
    http = suite.http()
    contact = new_contact(http, suite)
    started = time.time()
    ids = queue(http, suite, contact["id"], "email", 20) + queue(
        http, suite, contact["id"], "sms", 20
    )
    time.sleep(max(0.0, started + 1.5 - time.time()))
    wait_for(lambda: provider_calls(suite, contact["id"]), 10, "a first send")
    assert http.delete(f"{suite.url}/v1/contacts/{contact['id']}", timeout=15).status_code == 204
    erased = time.time()

    # Every message of the contact is gone from messaging, and so are the provider's
    # files; none is written again while the rest of the queue drains.
    wait_for(lambda: not statuses(http, suite, ids), 30, "the messages to be erased")
    wait_for(lambda: not provider_calls(suite, contact["id"]), 30, "the files to be deleted")
    deadline = erased + 40 / RATE + 2  # past the time the whole queue would have taken
    while time.time() < deadline:
        assert not provider_calls(suite, contact["id"]), "a send after the erasure"
        time.sleep(0.2)
    assert not list(outbox(suite).glob(f"*/{contact['id']}"))


# ---- the property, against the real suite

CHANNELS = ("email", "sms", "telegram")
LISTS = {"email": "email", "sms": "phone"}
Change = tuple[str, str]  # (what, channel)
changes = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "unsubscribe",
                "subscribe",
                "blacklist",
                "unblacklist",
                "deactivate",
                "activate",
                "category_off",
                "category_on",
            ]
        ),
        st.sampled_from(CHANNELS),
        st.floats(0.0, 0.6),
    ),
    min_size=1,
    max_size=6,
)


def apply(http, suite, contact_id: str, what: str, channel: str) -> None:
    url = f"{suite.url}/v1/contacts/{contact_id}"
    if what in ("unsubscribe", "subscribe"):
        status = "unsubscribed" if what == "unsubscribe" else "subscribed"
        answer = http.put(
            f"{url}/subscriptions/{channel}",
            timeout=15,
            json={"status": status, "reason": "property"},
        )
    elif what in ("blacklist", "unblacklist"):
        target = f"{url}/blacklists/{LISTS.get(channel, 'email')}"
        answer = (
            http.put(target, json={"reason": "property"}, timeout=15)
            if what == "blacklist"
            else http.delete(target, timeout=15)
        )
    elif what in ("deactivate", "activate"):
        answer = http.post(f"{url}/{what}", timeout=15)
    else:
        answer = http.patch(url, json={"categories": {"news": what == "category_on"}}, timeout=15)
    assert answer.status_code < 300, (what, channel, answer.text)


def eligible(contact: dict, channel: str, category: str | None) -> bool:
    """The API's promise, read from the contact as the API answers it."""
    listed = LISTS.get(channel)
    return (
        contact["status"] == "active"
        and contact["subscriptions"][channel]["status"] == "subscribed"
        and not (listed and contact["blacklists"][listed])
        and (category is None or contact["categories"].get(category) is True)
    )


@pytest.fixture(scope="module")
def news(suite):
    answer = suite.http().post(
        suite.url + "/v1/categories",
        timeout=15,
        json={"name": "news", "description": "the newsletter"},
    )
    assert answer.status_code in (201, 409), answer.text


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=changes)
def test_no_provider_call_once_a_contact_may_no_longer_receive(suite, news, plan):
    http = suite.http()
    contact = new_contact(http, suite, categories={"news": True})
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    chat = str(uuid.uuid4().int % 10**12)
    assert (
        http.put(url + "/channels/telegram", json={"chat_id": chat}, timeout=15).status_code == 200
    )
    # Each change: when its request began, when it (and the read after it) answered, and
    # the contact as it was then; first the contact the messages were queued for.
    timeline = [(0.0, 0.0, http.get(url, timeout=15).json())]
    queued = {}
    for channel in CHANNELS:
        for category in (None, "news"):
            for message_id in queue(http, suite, contact["id"], channel, 5, category):
                queued[message_id] = (channel, category)
    for what, channel, pause in plan:
        time.sleep(pause)
        began = time.time()
        apply(http, suite, contact["id"], what, channel)
        timeline.append((began, time.time(), http.get(url, timeout=15).json()))

    settled(http, suite, list(queued))
    for message_id, at in provider_calls(suite, contact["id"]).items():
        channel, category = queued[message_id]
        # A call while a change was under way (or just after: a claim made before the
        # change answered) may go either way; any other call saw the last change made.
        if any(began <= at <= answered + IN_FLIGHT for began, answered, _ in timeline[1:]):
            continue
        state = [state for _, answered, state in timeline if answered < at][-1]
        assert eligible(state, channel, category), (message_id, channel, category, plan)
