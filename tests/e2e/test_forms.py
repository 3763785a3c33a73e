"""The subscription form end to end, through the running gateway with a real HTTP
client: the form posted from a web page, the confirmation email arriving at an SMTP
server (tests/fake_providers.py), the link followed, the contact subscribed with the
ledger saying `double opt-in`; no second email to a subscribed address; CORS for the
allowed origin only; 429 beyond the per-client limit. Each test posts from a client
address of its own (X-Forwarded-For behind one trusted proxy), so that one test's
requests do not spend another's limit."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import uuid

import pytest
import requests

from tests.e2e.conftest import running_fake_providers, start_suite, stop_suite, suite_env
from tests.polling import wait_for

ORIGIN = "https://shop.example"
FORMS_BURST = 8
CLIENTS = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    fakes = running_fake_providers(tmp_path_factory.mktemp("providers"))
    started = next(fakes)
    yield {"dir": started["dir"], "port": started["smtp_port"]}
    fakes.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path_factory, smtp):
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    data_dir = tmp_path_factory.mktemp(f"suite-{request.param}")
    env = suite_env(amqp_uri, data_dir, database_url)
    env.update(
        {
            "PLEXUS_TRACKING_BASE_URL": f"http://127.0.0.1:{env['PLEXUS_GATEWAY_PORT']}",
            "PLEXUS_EMAIL_PROVIDER": "smtp",
            "PLEXUS_SMTP_PORT": str(smtp["port"]),
            "PLEXUS_SMTP_FROM": "Shop <news@shop.example>",
            "PLEXUS_FORMS_ALLOWED_ORIGINS": f"{ORIGIN}, https://www.shop.example",
            "PLEXUS_FORMS_RATE_LIMIT_PER_SECOND": "0.01",
            "PLEXUS_FORMS_RATE_LIMIT_BURST": str(FORMS_BURST),
            "PLEXUS_TRUSTED_PROXY_DEPTH": "1",
        }
    )
    running = start_suite(env, data_dir / "suite.log")
    yield running
    stop_suite(running)
    assert running.process.returncode == 0, running.log.read_text()[-4000:]


def client() -> requests.Session:
    """A browser of its own: a client address no other test uses."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = next(CLIENTS)
    return session


def unique_email() -> str:
    return f"f-{uuid.uuid4().hex[:10]}@shop-customer.example"


def emails_to(smtp, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((smtp["dir"] / "smtp").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def confirmation_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/forms/confirm/\S+", text).group(0)


def subscribe(browser, suite, **body) -> requests.Response:
    return browser.post(
        suite.url + "/forms/subscribe", json=body, timeout=15, headers={"Origin": ORIGIN}
    )


def contact_by_email(suite, address: str) -> dict:
    found = (
        suite.http()
        .get(suite.url + "/v1/contacts", params={"email": address}, timeout=15)
        .json()["data"]
    )
    return found[0] if found else None


def test_the_form_sends_a_confirmation_whose_link_subscribes(suite, smtp):
    suite.http().post(suite.url + "/v1/categories", json={"name": "newsletter"}, timeout=15)
    browser, address = client(), unique_email()
    posted = subscribe(
        browser, suite, email=address, first_name="Olena", categories=["newsletter"], language="uk"
    )
    assert posted.status_code == 202, posted.text
    assert posted.json() == {"status": "accepted"}
    assert posted.headers["Access-Control-Allow-Origin"] == ORIGIN

    pending = contact_by_email(suite, address)
    assert pending["created_via"] == "form" and pending["first_name"] == "Olena"
    assert pending["subscriptions"]["email"]["status"] == "never"
    [message] = wait_for(lambda: emails_to(smtp, address), what="the confirmation email")
    assert message["Subject"] == "Please confirm your subscription"
    stored = (
        suite.http()
        .get(f"{suite.url}/v1/messages/{message['X-Plexus-Message-Id']}", timeout=15)
        .json()
    )
    assert (stored["purpose"], stored["contact_id"]) == ("confirmation", pending["id"])

    link = confirmation_link(message)
    assert link.startswith(suite.url + "/forms/confirm/")
    page = browser.get(link, timeout=15)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Subscribed" in page.text and address in page.text

    person = contact_by_email(suite, address)
    assert person["id"] == pending["id"]
    assert person["subscriptions"]["email"]["status"] == "subscribed"
    assert person["subscriptions"]["email"]["reason"] == "double opt-in"
    assert person["categories"] == {"newsletter": True}
    ledger = (
        suite.http()
        .get(f"{suite.url}/v1/contacts/{person['id']}/subscriptions/history", timeout=15)
        .json()["data"]
    )
    assert [(e["channel"], e["status"], e["reason"], e["actor"]) for e in ledger] == [
        ("email", "subscribed", "double opt-in", "form")
    ]

    again = browser.post(link, timeout=15)  # a page's script: JSON; nothing changes
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "subscribed", "email": address, "categories": ["newsletter"]}


def test_no_second_email_for_a_subscribed_blacklisted_or_recent_address(suite, smtp):
    admin, browser = suite.http(), client()
    subscribed = unique_email()
    made = admin.post(suite.url + "/v1/contacts", json={"email": subscribed}, timeout=15)
    assert made.json()["subscriptions"]["email"]["status"] == "subscribed"
    listed = unique_email()
    other = admin.post(suite.url + "/v1/contacts", json={"email": listed}, timeout=15).json()
    admin.put(
        f"{suite.url}/v1/contacts/{other['id']}/subscriptions/email",
        timeout=15,
        json={"status": "unsubscribed", "reason": "asked"},
    )
    admin.put(
        f"{suite.url}/v1/contacts/{other['id']}/blacklists/email",
        timeout=15,
        json={"reason": "complaint"},
    )
    recent, corrected = unique_email(), unique_email()
    typo = subscribe(browser, suite, email=corrected, categories=["no-such-category"])
    assert typo.status_code == 422 and "categories.no-such-category" in typo.json()["errors"]
    for address in (subscribed, listed, recent, recent, corrected):
        answer = subscribe(browser, suite, email=address)
        assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
    # A control posted last: once its email is in, the others would be too.
    control = unique_email()
    assert subscribe(client(), suite, email=control).status_code == 202
    wait_for(lambda: emails_to(smtp, control), what="the control email")
    wait_for(lambda: emails_to(smtp, recent), what="the first email to the recent address")
    assert emails_to(smtp, subscribed) == [] and emails_to(smtp, listed) == []
    assert len(emails_to(smtp, recent)) == 1
    # The form corrected after a 422 is sent its email: the refused one did not count.
    wait_for(lambda: emails_to(smtp, corrected), what="the corrected form's email")


def test_cors_for_the_allowed_origins_only(suite):
    browser = client()
    url = suite.url + "/forms/subscribe"
    asked = {
        "Origin": "https://www.shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    preflight = browser.options(url, headers=asked, timeout=15)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.shop.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"

    foreign = {**asked, "Origin": "https://evil.example"}
    refused = browser.options(url, headers=foreign, timeout=15)
    assert "Access-Control-Allow-Origin" not in refused.headers
    posted = browser.post(
        url, json={"email": unique_email()}, timeout=15, headers={"Origin": "https://evil.example"}
    )
    assert posted.status_code == 202
    assert not any(name.lower().startswith("access-control") for name in posted.headers)
    bad = browser.post(url, json={"email": "nope"}, timeout=15, headers={"Origin": ORIGIN})
    assert bad.status_code == 422 and bad.json()["errors"].keys() == {"email"}
    assert bad.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page reads why


def test_a_client_over_its_limit_gets_429_others_do_not(suite):
    browser = client()
    answers = [
        browser.get(f"{suite.url}/forms/confirm/not-a-token", timeout=15)
        for _ in range(FORMS_BURST + 1)
    ]
    assert [a.status_code for a in answers[:FORMS_BURST]] == [404] * FORMS_BURST
    assert "not valid" in answers[0].text and answers[0].headers["Content-Type"].startswith(
        "text/html"
    )
    over = answers[-1]
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert "client address" in over.json()["detail"]
    assert client().get(f"{suite.url}/forms/confirm/not-a-token", timeout=15).status_code == 404
    for _ in range(3):  # the tracking links draw on their own, larger limit
        assert browser.get(f"{suite.url}/t/o/not-a-token", timeout=15).status_code == 404
