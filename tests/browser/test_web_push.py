"""The web push service worker (/ui/sw.js) in headless Chromium: a push sent through the
suite to the local fake push service (tests/fake_providers.py, which decrypts it as the
browser would) is handed to the registered worker as a real `push` event over the
DevTools protocol (ServiceWorker.deliverPushMessage), the worker shows the notification
and reports `delivered`; a click and a close on that notification report `click` (with
`open`) and `dismissed`, and the contact's feed shows all four.

What this does not cover, and why: headless Chromium cannot subscribe to a push service
offline (pushManager.subscribe asks Google's FCM for an endpoint; offline, Chromium 156's
promise did not settle in 60 s, and no setting points it at another push service), so
the subscription is the fake's (its keys held by the test, as a browser holds them) and
the push leg from the push service into the browser is the DevTools call. Nobody clicks
a notification in a headless browser: the click and close are NotificationEvents
dispatched in the worker on the notification it showed, so the worker's own listeners
run, but not from the browser's notification UI."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest
import requests
import websocket

from tests.e2e.conftest import running_fake_providers, start_suite, stop_suite, suite_env
from tests.e2e.feeds import wait_feed
from tests.fake_providers import new_push_subscription, pushes
from tests.polling import wait_for


@pytest.fixture(scope="module")
def providers(tmp_path_factory):
    yield from running_fake_providers(tmp_path_factory.mktemp("providers"))


@pytest.fixture(scope="module")
def suite(amqp_uri, tmp_path_factory, providers):
    """The suite on SQLite with the web push sender pointed at the fake push service."""
    data_dir = tmp_path_factory.mktemp("suite-webpush")
    env = suite_env(amqp_uri, data_dir, None)
    env.update(
        {
            "PLEXUS_TRACKING_BASE_URL": f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}",
            "PLEXUS_WEBPUSH_PROVIDER": "webpush",
            "PLEXUS_WEBPUSH_PUSH_SERVICES": providers["http"],
        }
    )
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


class DevTools:
    """The browser's DevTools protocol over its own websocket: selenium's
    execute_cdp_cmd speaks to the page only and drops events, and this needs the
    service worker's target and the registration events."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        url = requests.get(f"http://{address}/json/version", timeout=10).json()[
            "webSocketDebuggerUrl"
        ]
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None):
        number = next(self.ids)
        command = {"id": number, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        self.socket.send(json.dumps(command))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == number:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def attach(self, kind: str, url_part: str) -> str:
        targets = self.send("Target.getTargets")["targetInfos"]
        target = next(t for t in targets if t["type"] == kind and url_part in t["url"])
        return self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )["sessionId"]

    def registration_id(self, scope: str) -> str:
        def found():
            self.send("Target.getTargets")  # reads the events that came meanwhile
            for event in self.events:
                if event.get("method") == "ServiceWorker.workerRegistrationUpdated":
                    for registration in event["params"]["registrations"]:
                        if registration["scopeURL"] == scope and not registration["isDeleted"]:
                            return registration["registrationId"]
            return None

        return wait_for(found, 15, f"the service worker registration of {scope}")

    def close(self) -> None:
        self.socket.close()


REGISTER = """
const done = arguments[arguments.length - 1];
navigator.serviceWorker.register("/ui/sw.js", {scope: "/ui/"}).then(async (registration) => {
  const worker = registration.installing || registration.waiting || registration.active;
  while (worker.state !== "activated") {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  done("activated");
}).catch((error) => done(String(error)));
"""

NOTIFICATIONS = """
const done = arguments[arguments.length - 1];
navigator.serviceWorker.getRegistration("/ui/")
  .then((registration) => registration.getNotifications())
  .then((shown) => done(shown.map((n) => [n.title, n.body, n.tag])))
  .catch((error) => done(String(error)));
"""


ACT = """
self.registration.getNotifications({tag: TAG}).then((shown) => {
  for (const notification of shown) {
    self.dispatchEvent(new NotificationEvent(EVENT, {notification}));
  }
  return shown.length;
})
"""


def user_acts_on(devtools: DevTools, worker: str, event: str, message_id: str) -> int:
    """Dispatch `notificationclick` / `notificationclose` in the worker on the
    notification it showed for the message; how many it found."""
    expression = ACT.replace("TAG", json.dumps(message_id)).replace("EVENT", json.dumps(event))
    answer = devtools.send(
        "Runtime.evaluate",
        {
            "expression": expression,
            "awaitPromise": True,
            "returnByValue": True,
        },
        worker,
    )
    return answer["result"]["value"]


def history(suite, message_id: str) -> list[str]:
    answer = suite.http().get(f"{suite.url}/v1/messages/{message_id}", timeout=15).json()
    return [entry["status"] for entry in answer["history"]]


def test_the_service_worker_shows_a_push_and_reports_what_became_of_it(suite, providers, browser):
    devtools = DevTools(browser)
    try:
        browser.get(suite.url + "/")
        devtools.send(
            "Browser.grantPermissions", {"permissions": ["notifications"], "origin": suite.url}
        )
        page = devtools.attach("page", suite.url)
        devtools.send("ServiceWorker.enable", session=page)
        assert browser.execute_async_script(REGISTER) == "activated"
        registration = devtools.registration_id(suite.url + "/ui/")

        person = (
            suite.http()
            .post(
                f"{suite.url}/v1/contacts",
                json={"user_id": f"wp-{uuid.uuid4().hex[:8]}"},
                timeout=15,
            )
            .json()
        )
        key = suite.plexus("webpush", "public-key").stdout.strip()
        subscription = new_push_subscription(providers["dir"], providers["http"], key)
        made = suite.http().post(
            f"{suite.url}/v1/contacts/{person['id']}/channels/webpush",
            json=subscription,
            timeout=15,
        )
        assert made.status_code == 201, made.text

        def push(text: str) -> str:
            """Send through the suite; hand what the push service got to the worker."""
            queued = (
                suite.http()
                .post(
                    f"{suite.url}/v1/messages",
                    json={
                        "contact": {"id": person["id"]},
                        "channel": "webpush_desktop",
                        "content": {"body": text},
                    },
                    timeout=15,
                )
                .json()
            )
            payload = wait_for(
                lambda: next(
                    (
                        p["payload"]
                        for p in pushes(providers["dir"])
                        if p["payload"]["message_id"] == queued["id"]
                    ),
                    None,
                ),
                30,
                "the push at the push service",
            )
            devtools.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": suite.url,
                    "registrationId": registration,
                    "data": json.dumps(payload),
                },
                page,
            )
            wait_for(lambda: "delivered" in history(suite, queued["id"]), 30, "delivered")
            return queued["id"]

        clicked = push("Your order shipped")
        shown = browser.execute_async_script(NOTIFICATIONS)
        assert ["Plexus", "Your order shipped", clicked] in shown, shown
        worker = devtools.attach("service_worker", "/ui/sw.js")
        assert user_acts_on(devtools, worker, "notificationclick", clicked) == 1
        wait_for(lambda: "click" in history(suite, clicked), 30, "the click reported")

        closed = push("Back in stock")
        worker = devtools.attach("service_worker", "/ui/sw.js")
        assert user_acts_on(devtools, worker, "notificationclose", closed) == 1
        wait_for(lambda: "dismissed" in history(suite, closed), 30, "the close reported")
        time.sleep(0.3)  # a report sent twice would show by now: each counts once
        assert history(suite, clicked) == ["queued", "sent", "delivered", "open", "click"]
        assert history(suite, closed) == ["queued", "sent", "delivered", "dismissed"]

        wanted = {(s, clicked) for s in ("delivered", "open", "click")} | {("dismissed", closed)}
        wait_feed(suite, person["id"], "webpush_desktop", wanted)
    finally:
        devtools.close()
