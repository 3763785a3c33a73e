"""Events and orders that name a contact nobody has yet: the contact is made (created_via
event / order), once however often the post is retried, unless the body says
create_contact false (404 as before); on the shared suite, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.test_contacts_api import assert_problem, unique_email


def found(suite, **identifier) -> list[dict]:
    answer = suite.http().get(suite.url + "/v1/contacts", params=identifier, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def post(suite, path: str, body: dict):
    return suite.http().post(suite.url + path, json=body, timeout=15)


def test_an_event_makes_the_contact_it_names_once(suite):
    email = unique_email()
    event = {"contact": {"email": email}, "name": "signed_up"}
    first = post(suite, "/v1/events", event)
    assert first.status_code == 202, first.text
    retried = post(suite, "/v1/events", event)
    assert retried.status_code == 202, retried.text
    [made] = found(suite, email=email)
    assert first.json()["contact_id"] == retried.json()["contact_id"] == made["id"]
    assert made["created_via"] == "event" and made["age"] is None
    assert made["subscriptions"]["email"]["status"] == "subscribed"


def test_an_order_makes_its_contact_and_the_batch_its_contacts(suite):
    user_id = f"shop-{uuid.uuid4().hex[:10]}"
    order = {
        "contact": {"user_id": user_id},
        "external_id": f"o-{uuid.uuid4().hex[:10]}",
        "amount": 25,
        "currency": "EUR",
        "status": "paid",
    }
    answer = post(suite, "/v1/orders", order)
    assert answer.status_code == 201, answer.text
    [made] = found(suite, user_id=user_id)
    assert (made["id"], made["created_via"]) == (answer.json()["contact_id"], "order")

    emails = [unique_email(), unique_email()]
    batch = post(
        suite,
        "/v1/events/batch",
        {
            "events": [
                {"contact": {"email": emails[0]}, "name": "a"},
                {"contact": {"email": emails[0]}, "name": "b"},
                {"contact": {"email": emails[1]}, "name": "c", "create_contact": False},
                {"contact": {"email": "not an email"}, "name": "d"},
            ]
        },
    )
    assert batch.status_code == 202, batch.text
    results = batch.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "error", "error"]
    assert results[2]["errors"] == {"contact": ["no such contact"]}
    assert list(results[3]["errors"]) == ["contact.email"]
    assert [c["created_via"] for c in found(suite, email=emails[0])] == ["event"]
    assert found(suite, email=emails[1]) == []


def test_create_contact_false_is_404_and_makes_nothing(suite):
    email = unique_email()
    refused = post(
        suite, "/v1/events", {"contact": {"email": email}, "name": "x", "create_contact": False}
    )
    assert_problem(refused, 404, "contact")
    order = {
        "contact": {"user_id": f"none-{uuid.uuid4().hex[:8]}"},
        "external_id": f"o-{uuid.uuid4().hex[:10]}",
        "amount": 1,
        "currency": "EUR",
        "status": "paid",
        "create_contact": False,
    }
    assert_problem(post(suite, "/v1/orders", order), 404, "contact")
    assert found(suite, email=email) == []
    bad_flag = post(
        suite, "/v1/events", {"contact": {"email": email}, "name": "x", "create_contact": "no"}
    )
    assert_problem(bad_flag, 422, "create_contact")


def test_the_same_event_posted_at_once_makes_one_contact(suite):
    phone = f"+38066{uuid.uuid4().int % 10**7:07d}"
    event = {"contact": {"phone": phone}, "name": "app_installed"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: post(suite, "/v1/events", event), range(6)))
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    [made] = found(suite, phone=phone)
    assert {a.json()["contact_id"] for a in answers} == {made["id"]}
