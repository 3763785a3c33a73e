"""The activity API, driven over HTTP as an outside system would, on SQLite and on
PostgreSQL: events, conversions and orders posted and read back through every filter,
contact changes arriving through the bus, erasure, and the export."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import pytest

from tests.e2e.test_contacts_api import assert_problem, create, unique_email

TIMES = (
    "2026-11-10T09:00:00Z",
    "2026-11-11T09:00:00Z",
    "2026-11-12T09:00:00Z",
    "2026-11-13T09:00:00Z",
)


def poll(read, condition, seconds: float = 1.0):
    """read() until condition(result) holds, for `seconds` at most; the last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = read()
        if condition(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def feed(suite, contact_id: str, **query) -> dict:
    answer = suite.http().get(
        f"{suite.url}/v1/contacts/{contact_id}/activity", params=query, timeout=15
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(suite, path: str, body: dict, status: int) -> dict:
    answer = suite.http().post(suite.url + path, json=body, timeout=15)
    assert answer.status_code == status, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def customer(suite):
    """A contact with posted events, a conversion and an order (updated once), each
    at a known time; its own contact_created row comes through the bus."""
    contact = create(suite, user_id=f"shop-{uuid.uuid4().hex[:8]}")
    ref = {"user_id": contact["user_id"]}
    items = {
        "viewed": post(
            suite,
            "/v1/events",
            {
                "contact": ref,
                "name": "viewed_pricing",
                "properties": {"plan": "pro"},
                "occurred_at": TIMES[0],
            },
            202,
        ),
        "trial": post(
            suite,
            "/v1/events",
            {
                "contact": {"id": contact["id"]},
                "name": "trial_paid",
                "occurred_at": TIMES[1],
                "conversion": {"value": 49, "currency": "EUR"},
            },
            202,
        ),
        "order": post(
            suite,
            "/v1/orders",
            {
                "contact": ref,
                "external_id": contact["id"],
                "amount": 120,
                "currency": "UAH",
                "status": "created",
                "occurred_at": TIMES[2],
            },
            201,
        ),
        "cart": post(
            suite, "/v1/events", {"contact": ref, "name": "cart", "occurred_at": TIMES[3]}, 202
        ),
    }
    updated = post(
        suite,
        "/v1/orders",
        {
            "contact": ref,
            "external_id": contact["id"],
            "amount": 110,
            "currency": "UAH",
            "status": "paid",
        },
        200,
    )
    assert updated["id"] == items["order"]["id"]
    poll(lambda: feed(suite, contact["id"], channel="contact"), lambda page: page["data"])
    return contact, {name: item["id"] for name, item in items.items()}


def names(items: dict, page: dict) -> list[str]:
    by_id = {item_id: name for name, item_id in items.items()}
    return [by_id.get(item["id"], f"{item['channel']}/{item['type']}") for item in page["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["contact/added", "cart", "order", "trial", "viewed"]),
        ({"channel": "other"}, ["cart", "order", "trial", "viewed"]),
        ({"channel": "contact,email"}, ["contact/added"]),
        ({"type": "custom_event"}, ["cart", "viewed"]),
        ({"type": "custom_conversion,order"}, ["order", "trial"]),
        ({"channel": "other", "type": "order,custom_event"}, ["cart", "order", "viewed"]),
        ({"channel": "other", "since": TIMES[1], "until": TIMES[3]}, ["order", "trial"]),
        ({"type": "custom_event", "until": TIMES[3]}, ["viewed"]),
        ({"period": "7d"}, ["contact/added"]),
        ({"period": "30d", "channel": "other", "type": "order"}, ["order"]),
        ({"origin": "campaign"}, []),
        ({"channel": "sms"}, []),
    ],
)
def test_the_feed_with_filters(suite, customer, query, expected):
    contact, items = customer
    assert names(items, feed(suite, contact["id"], **query)) == expected


def test_items_as_stored_and_paged(suite, customer):
    contact, items = customer
    first = feed(suite, contact["id"], channel="other", limit=3)
    assert names(items, first) == ["cart", "order", "trial"]
    second = feed(suite, contact["id"], channel="other", limit=3, cursor=first["next_cursor"])
    assert names(items, second) == ["viewed"] and second["next_cursor"] is None
    order = first["data"][1]
    assert order["occurred_at"] == TIMES[2] and order["type"] == "order"
    assert order["details"]["status"] == "paid" and order["details"]["amount"] == 110
    trial = first["data"][2]
    assert trial["details"]["conversion"] == {"value": 49, "currency": "EUR"}
    one = suite.http().get(f"{suite.url}/v1/activity/{items['viewed']}", timeout=15).json()
    assert one["details"]["properties"] == {"plan": "pro"} and "message" not in one


def test_summary_counts_by_channel_and_type(suite, customer):
    contact, _ = customer
    url = f"{suite.url}/v1/contacts/{contact['id']}/activity/summary"
    week = suite.http().get(url, params={"period": "7d"}, timeout=15).json()
    assert week["total"] == 1
    assert week["channels"] == {"contact": {"total": 1, "types": {"added": 1}}}
    month = suite.http().get(url, params={"period": "30d"}, timeout=15).json()
    assert month["total"] == 5 and month["period"] == "30d"
    assert month["channels"]["other"] == {
        "total": 4,
        "types": {"custom_conversion": 1, "custom_event": 2, "order": 1},
    }


def test_contact_changes_appear_within_a_second(suite):
    contact = create(suite, email=unique_email("act"))
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    http = suite.http()
    assert http.patch(url, json={"first_name": "Olena"}, timeout=15).status_code == 200
    assert http.post(url + "/deactivate", timeout=15).status_code == 200
    assert (
        http.put(url + "/blacklists/email", json={"reason": "asked"}, timeout=15).status_code == 200
    )
    assert (
        http.put(url + "/subscriptions/sms", json={"status": "subscribed"}, timeout=15).status_code
        == 200
    )
    wanted = [
        ("sms", "subscribed"),
        ("contact", "blacklisted"),
        ("contact", "deactivated"),
        ("contact", "updated"),
        ("email", "subscribed"),
        ("contact", "added"),
    ]
    page = poll(lambda: feed(suite, contact["id"]), lambda p: len(p["data"]) == len(wanted))
    assert [(i["channel"], i["type"]) for i in page["data"]] == wanted
    assert page["data"][3]["details"]["changed"] == ["first_name"]


def test_erasing_the_contact_erases_its_feed(suite):
    contact = create(suite, email=unique_email("gone"))
    post(suite, "/v1/events", {"contact": {"id": contact["id"]}, "name": "x"}, 202)
    assert (
        suite.http().delete(f"{suite.url}/v1/contacts/{contact['id']}", timeout=15).status_code
        == 204
    )
    url = f"{suite.url}/v1/contacts/{contact['id']}/activity"
    answer = poll(lambda: suite.http().get(url, timeout=15), lambda a: a.status_code == 404)
    assert_problem(answer, 404)
    assert_problem(
        suite.http().post(
            suite.url + "/v1/events",
            timeout=15,
            json={"contact": {"id": contact["id"]}, "name": "x"},
        ),
        404,
        "contact",
    )


def test_batch_answers_each_event(suite):
    contact = create(suite, user_id=f"batch-{uuid.uuid4().hex[:8]}")
    answer = suite.http().post(
        suite.url + "/v1/events/batch",
        timeout=15,
        json={
            "events": [
                {
                    "contact": {"user_id": contact["user_id"]},
                    "name": "batch_a",
                    "occurred_at": "2026-10-01T00:00:00Z",
                },
                {
                    "contact": {"email": "nobody@example.com"},
                    "name": "batch_b",
                    "create_contact": False,
                },
                {
                    "contact": {"user_id": contact["user_id"]},
                    "name": "batch_c",
                    "occurred_at": "soon",
                },
            ]
        },
    )
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "error", "error"]
    assert results[1]["errors"] == {"contact": ["no such contact"]}
    assert "occurred_at" in results[2]["errors"]
    stored = feed(suite, contact["id"], channel="other")["data"]
    assert [item["id"] for item in stored] == [results[0]["id"]]


def test_bad_requests_name_what_is_wrong(suite, customer):
    contact, _ = customer
    http = suite.http()
    url = f"{suite.url}/v1/contacts/{contact['id']}/activity"
    assert_problem(http.get(url, params={"channel": "fax"}, timeout=15), 422, "channel")
    assert_problem(http.get(url, params={"period": "2d"}, timeout=15), 422, "period")
    assert_problem(http.get(url, params={"cursor": "nonsense"}, timeout=15), 422, "cursor")
    assert_problem(
        http.post(suite.url + "/v1/events", json={"contact": {"email": "a@x.io"}}, timeout=15),
        422,
        "name",
    )
    assert_problem(
        http.post(
            suite.url + "/v1/events",
            timeout=15,
            json={"contact": {"email": "nobody@example.com"}, "name": "x", "create_contact": False},
        ),
        404,
        "contact",
    )
    assert_problem(http.get(f"{suite.url}/v1/activity/nothing", timeout=15), 404)


def test_export_as_csv_and_ndjson(suite, customer):
    contact, items = customer
    url = f"{suite.url}/v1/contacts/{contact['id']}/activity/export"
    ndjson = suite.http().get(url, params={"format": "ndjson"}, timeout=15)
    assert ndjson.status_code == 200
    assert "attachment" in ndjson.headers["Content-Disposition"]
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [item["id"] for item in lines] == [
        item["id"] for item in feed(suite, contact["id"], limit=200)["data"]
    ]
    exported = suite.http().get(url, timeout=15)
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["id"] for row in rows] == [item["id"] for item in lines]
    assert rows[-1]["id"] == items["viewed"] and rows[-1]["type"] == "custom_event"
    assert json.loads(rows[-1]["details"])["properties"] == {"plan": "pro"}


def test_a_sent_message_is_in_the_feed_with_its_history(suite):
    contact = create(suite, email=unique_email("msg"))
    sent = post(
        suite,
        "/v1/messages",
        {
            "contact": {"id": contact["id"]},
            "channel": "email",
            "origin": "campaign",
            "content": {"subject": "Hi", "text": "Hello"},
        },
        202,
    )
    page = poll(
        lambda: feed(suite, contact["id"], channel="email", type="sent"),
        lambda p: p["data"],
        seconds=10,
    )
    [item] = page["data"]
    assert item["message_id"] == sent["id"] and item["origin"] == "campaign"
    detail = suite.http().get(f"{suite.url}/v1/activity/{item['id']}", timeout=15).json()
    assert detail["message_error"] is None
    assert detail["message"]["id"] == sent["id"]
    assert [h["status"] for h in detail["message"]["history"]][:2] == ["queued", "sent"]
