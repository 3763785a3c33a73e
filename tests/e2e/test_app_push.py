"""App push end to end: device tokens registered through the gateway, a message sent by
sender_app_push to the fake FCM (tests/fake_providers: the OAuth token endpoint checking
the service account's JWT, FCM checking the bearer token and the message), `sent`, the
app's reports over /t/p/ (delivered, open), and a token FCM calls UNREGISTERED removed
from its contact; on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import running_fake_providers, running_suite
from tests.fake_providers import fcm_messages, new_service_account
from tests.polling import wait_for


@pytest.fixture(scope="module")
def providers(tmp_path_factory):
    yield from running_fake_providers(tmp_path_factory.mktemp("fcm"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path_factory, providers):
    """The suite with sender_app_push on the fake FCM (the others on their outbox)."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    account_file = new_service_account(providers["dir"], providers["http"])

    def settings(env: dict) -> dict:
        return {
            "PLEXUS_TRACKING_BASE_URL": f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}",
            "PLEXUS_SEND_RETRY_BACKOFF": "0.05",
            "PLEXUS_APP_PUSH_PROVIDER": "fcm",
            # project_id and token_uri (the fake's) come from the key file.
            "PLEXUS_FCM_SERVICE_ACCOUNT_FILE": str(account_file),
            "PLEXUS_FCM_BASE_URL": providers["http"],
            "PLEXUS_FCM_DEFAULT_TITLE": "Shop",
        }

    data_dir = tmp_path_factory.mktemp(f"suite-{request.param}")
    yield from running_suite(amqp_uri, data_dir, database_url, settings=settings)


def contact(suite) -> dict:
    made = suite.http().post(
        suite.url + "/v1/contacts", json={"user_id": f"ap-{uuid.uuid4().hex[:10]}"}, timeout=15
    )
    assert made.status_code == 201, made.text
    return made.json()


def register(suite, contact_id: str, token: str, platform: str = "android") -> requests.Response:
    return suite.http().post(
        f"{suite.url}/v1/contacts/{contact_id}/channels/app_push",
        json={"token": token, "platform": platform, "app": "com.shop.app"},
        timeout=15,
    )


def read(suite, path: str) -> dict:
    answer = suite.http().get(suite.url + path, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def statuses(suite, message_id: str) -> list[str]:
    return [entry["status"] for entry in read(suite, f"/v1/messages/{message_id}")["history"]]


def wait_status(suite, message_id: str, status: str) -> None:
    wait_for(lambda: status in statuses(suite, message_id), 30, f"{status} on {message_id}")


def send(suite, contact_id: str, **content) -> str:
    answer = suite.http().post(
        suite.url + "/v1/messages",
        json={"contact": {"id": contact_id}, "channel": "app_push", "content": content},
        timeout=15,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def test_tokens_are_registered_once_listed_and_removed(suite):
    person = contact(suite)
    token = f"phone-{uuid.uuid4().hex}"
    first = register(suite, person["id"], token)
    assert first.status_code == 201, first.text
    assert first.headers["Location"].endswith(f"/channels/app_push/{first.json()['id']}")
    again = register(suite, person["id"], token)
    assert again.status_code == 201 and again.json() == first.json()
    stored = read(suite, f"/v1/contacts/{person['id']}")
    assert stored["channels"]["app_push"] == [
        {"id": first.json()["id"], "platform": "android", "app": "com.shop.app", "token": token}
    ]
    assert stored["subscriptions"]["app_push"]["status"] == "subscribed"
    history = read(suite, f"/v1/contacts/{person['id']}/subscriptions/history")["data"]
    assert [(e["channel"], e["status"]) for e in history] == [("app_push", "subscribed")]

    bad = register(suite, person["id"], f"t-{uuid.uuid4().hex}", platform="windows")
    assert bad.status_code == 422 and "platform" in bad.json()["errors"]
    taken = register(suite, contact(suite)["id"], token)
    assert taken.status_code == 409 and "token" in taken.json()["errors"]

    # Subscribed again by hand after the person's unsubscribe: both in the feed.
    for status in ("unsubscribed", "subscribed"):
        changed = suite.http().put(
            f"{suite.url}/v1/contacts/{person['id']}/subscriptions/app_push",
            json={"status": status},
            timeout=15,
        )
        assert changed.status_code == 200, changed.text
    feed = f"/v1/contacts/{person['id']}/activity?channel=app_push"
    wait_for(
        lambda: {"subscribed", "unsubscribed"} <= {i["type"] for i in read(suite, feed)["data"]},
        30,
        "app_push subscribed and unsubscribed in the feed",
    )

    path = f"{suite.url}/v1/contacts/{person['id']}/channels/app_push/{first.json()['id']}"
    assert suite.http().delete(path, timeout=15).status_code == 204
    assert suite.http().delete(path, timeout=15).status_code == 404
    assert read(suite, f"/v1/contacts/{person['id']}")["channels"]["app_push"] == []


def test_an_app_push_is_sent_through_fcm_and_the_app_reports_on_it(suite, providers):
    person = contact(suite)
    phone, old_phone = f"phone-{uuid.uuid4().hex}", f"dead-{uuid.uuid4().hex}"
    assert register(suite, person["id"], phone).status_code == 201
    assert register(suite, person["id"], old_phone, "ios").status_code == 201
    message_id = send(suite, person["id"], subject="Shipped", body="Your order is on its way")
    wait_status(suite, message_id, "sent")

    [pushed] = [m for m in fcm_messages(providers["dir"]) if m["message"]["token"] == phone]
    assert pushed["message"]["notification"] == {
        "title": "Shipped",
        "body": "Your order is on its way",
    }
    data = pushed["message"]["data"]
    assert data["message_id"] == message_id
    assert data["report_url"] == f"{suite.url}/t/p/{data['report_token']}"
    # FCM called the old phone's token UNREGISTERED: it is no longer the contact's.
    tokens = read(suite, f"/v1/contacts/{person['id']}")["channels"]["app_push"]
    assert [t["token"] for t in tokens] == [phone]

    def report(event: str) -> requests.Response:
        return requests.post(data["report_url"], json={"event": event}, timeout=15)  # no key

    assert report("delivered").json()["recorded"] == ["delivered"]
    assert report("open").json() == {
        "message_id": message_id,
        "event": "open",
        "recorded": ["open"],
    }
    assert report("open").json()["recorded"] == []
    for not_app_push in ("click", "dismissed"):
        refused = report(not_app_push)
        assert refused.status_code == 422 and "event" in refused.json()["errors"]
    assert statuses(suite, message_id) == ["queued", "sent", "delivered", "open"]

    feed = f"/v1/contacts/{person['id']}/activity?channel=app_push"
    wait_for(
        lambda: (
            {"sent", "delivered", "open"}
            <= {i["type"] for i in read(suite, feed)["data"] if i["message_id"] == message_id}
        ),
        30,
        "sent, delivered and open in the feed",
    )


def test_a_device_fcm_calls_unregistered_ends_undelivered(suite, providers):
    person = contact(suite)
    assert register(suite, person["id"], f"dead-{uuid.uuid4().hex}").status_code == 201
    message_id = send(suite, person["id"], body="Anyone there?")
    wait_status(suite, message_id, "undelivered")
    stored = read(suite, f"/v1/contacts/{person['id']}")
    assert stored["channels"]["app_push"] == []
    # No token left: the next send is refused at once.
    refused = suite.http().post(
        suite.url + "/v1/messages",
        json={"contact": {"id": person["id"]}, "channel": "app_push", "content": {"body": "x"}},
        timeout=15,
    )
    assert refused.status_code == 409, refused.text
