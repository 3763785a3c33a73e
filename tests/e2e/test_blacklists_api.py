"""Black lists of addresses, suppression after erasure and the consent ledger through the
running gateway: /v1/blacklists/{list}, the contact routes on its current address, a
contact created or imported with an erased contact's address, and who each ledger line
names, on SQLite and on PostgreSQL."""

import uuid
from pathlib import Path
from urllib.parse import quote

import requests

from services.messaging.logic.tokens import UNSUBSCRIBE, make_token
from tests.e2e.test_contacts_api import assert_problem, create
from tests.polling import wait_for

SUPPRESSED = "suppressed before erasure"


def tag() -> str:
    return uuid.uuid4().hex[:10]


def phone_number() -> str:
    return f"+38067{int(tag()[:7], 16) % 10**7:07d}"


def ledger(suite, contact_id: str) -> list[tuple]:
    """(channel, previous, status, reason, actor) of the contact's consent, oldest first."""
    answer = suite.http().get(
        f"{suite.url}/v1/contacts/{contact_id}/subscriptions/history", timeout=15
    )
    assert answer.status_code == 200, answer.text
    return [
        (e["channel"], e["previous_status"], e["status"], e["reason"], e["actor"])
        for e in reversed(answer.json()["data"])
    ]


def test_an_address_is_listed_whether_or_not_a_contact_has_it(suite):
    http, mark = suite.http(), tag()
    lists = f"{suite.url}/v1/blacklists"
    email = f"bl-{mark}@example.com"
    put = http.put(f"{lists}/email/{email.upper()}", json={"reason": "bounced"}, timeout=15)
    assert put.status_code == 200, put.text
    entry = put.json()
    assert (entry["value"], entry["reason"], entry["source"]) == (email, "bounced", "manual")
    assert entry["added_at"].endswith("Z")

    # A contact created with it is listed; its label follows its address.
    person = create(suite, email=email)
    assert person["blacklists"]["email"] == {"since": entry["added_at"], "reason": "bounced"}
    url = f"{suite.url}/v1/contacts/{person['id']}"
    moved = http.patch(url, json={"email": f"moved-{mark}@example.com"}, timeout=15)
    assert moved.status_code == 200 and moved.json()["blacklists"]["email"] is None
    back = http.patch(url, json={"email": email}, timeout=15).json()
    assert back["blacklists"]["email"]["reason"] == "bounced"
    assert http.get(url, timeout=15).json() == back

    # Its feed says so, through the bus (blacklist_changed).
    def feed():
        items = http.get(url + "/activity", params={"channel": "contact"}, timeout=15).json()
        kinds = [i["type"] for i in items["data"] if i["type"].endswith("blacklisted")]
        return kinds if len(kinds) >= 3 else None

    assert wait_for(feed, what="black-list items in the feed") == [
        "blacklisted",
        "unblacklisted",
        "blacklisted",
    ]

    # Paged like every list, q a prefix.
    for n in range(3):
        assert http.put(f"{lists}/email/p{n}-{mark}@example.com", timeout=15).status_code == 200
    first = http.get(f"{lists}/email", params={"q": "P", "limit": 200}, timeout=15).json()
    mine = [e["value"] for e in first["data"] if mark in e["value"]]
    assert mine == [f"p{n}-{mark}@example.com" for n in range(3)]
    one = http.get(f"{lists}/email", params={"q": f"p1-{mark}", "limit": 1}, timeout=15).json()
    assert [e["value"] for e in one["data"]] == [f"p1-{mark}@example.com"]
    assert one["next_cursor"] is None

    # Taken off: the contact is no longer listed; a second time it is not there (404).
    assert http.delete(f"{lists}/email/{email}", timeout=15).status_code == 204
    assert http.get(url, timeout=15).json()["blacklists"]["email"] is None
    assert_problem(http.delete(f"{lists}/email/{email}", timeout=15), 404)


def test_phones_and_viber_ids_in_the_path_and_bad_input(suite):
    http, lists = suite.http(), f"{suite.url}/v1/blacklists"
    phone = phone_number()
    national = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    put = http.put(f"{lists}/phone/{quote(national)}", json={}, timeout=15)
    assert put.status_code == 200 and put.json()["value"] == phone, put.text
    viber = f"v/{tag()}+=="
    put = http.put(f"{lists}/viber/{quote(viber, safe='/')}", timeout=15)
    assert put.status_code == 200 and put.json()["value"] == viber, put.text
    found = http.get(f"{lists}/viber", params={"q": viber[:6]}, timeout=15).json()
    assert [e["value"] for e in found["data"]] == [viber]
    assert http.delete(f"{lists}/viber/{quote(viber, safe='/')}", timeout=15).status_code == 204

    assert_problem(http.get(f"{lists}/pigeon", timeout=15), 404)
    assert_problem(http.put(f"{lists}/pigeon/x", timeout=15), 404)
    assert_problem(http.put(f"{lists}/email/not-an-email", timeout=15), 422, "value")
    assert_problem(http.put(f"{lists}/phone/12345", timeout=15), 422, "value")
    assert_problem(http.delete(f"{lists}/phone/12345", timeout=15), 422, "value")
    assert_problem(
        http.put(f"{lists}/email/a@example.com", json={"why": "x"}, timeout=15), 422, "why"
    )
    assert_problem(http.get(f"{lists}/email", params={"limit": 0}, timeout=15), 422, "limit")


def test_the_contact_routes_need_an_address(suite):
    http = suite.http()
    person = create(suite, email=f"nophone-{tag()}@example.com")
    url = f"{suite.url}/v1/contacts/{person['id']}/blacklists"
    assert_problem(http.put(url + "/phone", json={}, timeout=15), 409, "phone")
    assert_problem(http.delete(url + "/viber", timeout=15), 409, "channels.viber")
    listed = http.put(url + "/email", json={"reason": "asked"}, timeout=15)
    assert listed.status_code == 200 and listed.json()["blacklists"]["email"]["reason"] == "asked"
    entries = http.get(
        f"{suite.url}/v1/blacklists/email", params={"q": person["email"]}, timeout=15
    ).json()["data"]
    assert [(e["value"], e["source"]) for e in entries] == [(person["email"], "manual")]


def erase_a_suppressed_contact(suite) -> tuple[str, str]:
    """A contact with its email unsubscribed and its phone black-listed, erased."""
    http, email, phone = suite.http(), f"gone-{tag()}@example.com", phone_number()
    person = create(suite, email=email, phone=phone)
    url = f"{suite.url}/v1/contacts/{person['id']}"
    assert (
        http.put(
            url + "/subscriptions/email", json={"status": "unsubscribed"}, timeout=15
        ).status_code
        == 200
    )
    assert http.put(url + "/blacklists/phone", json={}, timeout=15).status_code == 200
    assert http.delete(url, timeout=15).status_code == 204
    entries = http.get(f"{suite.url}/v1/blacklists/phone", params={"q": phone}, timeout=15).json()[
        "data"
    ]
    assert entries == []  # no clear text left: a hash only
    return email, phone


def assert_restored(suite, contact: dict) -> None:
    assert contact["subscriptions"]["email"]["status"] == "unsubscribed"
    assert contact["subscriptions"]["email"]["reason"] == SUPPRESSED
    assert contact["subscriptions"]["sms"]["status"] == "subscribed"
    assert contact["blacklists"]["phone"]["reason"] == SUPPRESSED
    entries = (
        suite.http()
        .get(f"{suite.url}/v1/blacklists/phone", params={"q": contact["phone"]}, timeout=15)
        .json()["data"]
    )
    assert [e["source"] for e in entries] == ["erased"]
    assert ledger(suite, contact["id"])[0] == (
        "email",
        "never",
        "unsubscribed",
        SUPPRESSED,
        "suppression",
    )


def test_a_contact_created_with_an_erased_contacts_address_starts_suppressed(suite):
    email, phone = erase_a_suppressed_contact(suite)
    assert_restored(suite, create(suite, email=email, phone=phone))


def test_an_import_with_an_erased_contacts_address_starts_suppressed(suite):
    email, phone = erase_a_suppressed_contact(suite)
    http = suite.http()
    answer = http.post(
        f"{suite.url}/v1/contacts/batch",
        timeout=30,
        json={
            "contacts": [{"email": f"fresh-{tag()}@example.com"}, {"email": email, "phone": phone}]
        },
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()["results"][1]
    assert made["status"] == "created"
    assert_restored(suite, http.get(f"{suite.url}/v1/contacts/{made['id']}", timeout=15).json())


def test_every_consent_change_names_who_made_it_and_why(suite):
    http, email = suite.http(), f"ledger-{tag()}@example.com"
    person = create(suite, email=email)
    url = f"{suite.url}/v1/contacts/{person['id']}"
    # The API: the key's name.
    http.put(
        url + "/subscriptions/email", json={"status": "unsubscribed", "reason": "asked"}, timeout=15
    )
    http.put(
        url + "/subscriptions/email", json={"status": "subscribed", "reason": "again"}, timeout=15
    )
    # An import: the key's name too (plexus import sends the batches with it).
    phone = phone_number()
    http.post(
        f"{suite.url}/v1/contacts/batch",
        json={"contacts": [{"email": email, "phone": phone}]},
        timeout=30,
    )
    # The unsubscribe link of a message sent to it: messaging, on the contact's behalf.
    sent = http.post(
        f"{suite.url}/v1/messages",
        timeout=15,
        json={
            "contact": {"id": person["id"]},
            "channel": "email",
            "content": {"subject": "Hi", "text": "Hello"},
        },
    )
    assert sent.status_code == 202, sent.text
    secret = (Path(suite.env["PLEXUS_DATA_DIR"]) / "tracking-secret").read_text().strip()
    token = make_token(secret, UNSUBSCRIBE, sent.json()["id"])
    done = requests.post(
        f"{suite.url}/t/u/{token}", data={"List-Unsubscribe": "One-Click"}, timeout=15
    )
    assert done.status_code == 200, done.text
    assert ledger(suite, person["id"]) == [
        ("email", "never", "subscribed", "address added", "bootstrap"),
        ("email", "subscribed", "unsubscribed", "asked", "bootstrap"),
        ("email", "unsubscribed", "subscribed", "again", "bootstrap"),
        ("sms", "never", "subscribed", "address added", "bootstrap"),
        ("email", "subscribed", "unsubscribed", "one-click unsubscribe", "tracking"),
    ]
    # Suppression: test_a_contact_created_with_an_erased_contacts_address_starts_suppressed.
