"""The contacts API, driven over HTTP as an outside system would, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families


def unique_email(tag: str = "c") -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@Example.COM"


def create(suite, **fields) -> dict:
    answer = suite.http().post(suite.url + "/v1/contacts", json=fields, timeout=15)
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_problem(answer: requests.Response, status: int, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body


def test_create_normalises_and_answers_the_stored_contact(suite):
    email = unique_email()
    answer = suite.http().post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={
            "email": email,
            "phone": "050 123 4567",
            "region": "UA",
            "first_name": "Олена",
            "birthday": "1990-04-01",
            "gender": 2,
            "language": "uk",
            "timezone": "Europe/Kyiv",
            "address": {"country": "UA", "city": "Kyiv"},
            "avatar_url": "https://x.example/a.png",
        },
    )
    assert answer.status_code == 201, answer.text
    contact = answer.json()
    assert answer.headers["Location"].endswith(f"/v1/contacts/{contact['id']}")
    assert contact["email"] == email.lower()
    assert contact["phone"] == "+380501234567"
    assert contact["status"] == "active"
    assert contact["gender"] == 2 and contact["contact_score"] == 0
    assert contact["created_at"].endswith("Z") and contact["updated_at"].endswith("Z")
    assert contact["subscriptions"]["email"]["status"] == "subscribed"
    assert contact["subscriptions"]["telegram"]["status"] == "never"
    assert contact["blacklists"] == {"email": None, "phone": None, "viber": None}
    assert contact["created_via"] == "api" and isinstance(contact["age"], int)
    assert contact["age"] >= 36  # born 1990-04-01
    fetched = suite.http().get(f"{suite.url}/v1/contacts/{contact['id']}", timeout=15)
    assert fetched.status_code == 200 and fetched.json() == contact


def test_look_up_by_any_identifier(suite):
    contact = create(
        suite,
        user_id=f"u-{uuid.uuid4().hex[:8]}",
        email=unique_email(),
        phone=f"+38067{uuid.uuid4().int % 10**7:07d}",
    )
    http = suite.http()
    national = "0" + contact["phone"][4:]
    for query in (
        {"user_id": contact["user_id"]},
        {"email": contact["email"].upper()},
        {"phone": contact["phone"]},
        {"phone": national, "region": "UA"},
    ):
        page = http.get(suite.url + "/v1/contacts", params=query, timeout=15).json()
        assert [c["id"] for c in page["data"]] == [contact["id"]], query
    missing = http.get(
        suite.url + "/v1/contacts", params={"email": "nobody@x.example"}, timeout=15
    ).json()
    assert missing["data"] == []


def test_listing_pages_newest_first(suite):
    made = [create(suite, user_id=f"page-{uuid.uuid4().hex[:8]}")["id"] for _ in range(3)]
    first = suite.http().get(suite.url + "/v1/contacts", params={"limit": 2}, timeout=15).json()
    assert [c["id"] for c in first["data"]] == made[::-1][:2]
    second = (
        suite.http()
        .get(
            suite.url + "/v1/contacts",
            timeout=15,
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
        .json()
    )
    assert second["data"][0]["id"] == made[0]


def test_the_list_filters_by_name_status_and_subscription(suite):
    family = f"Zq{uuid.uuid4().hex[:8]}"
    one = create(suite, email=unique_email(), first_name="Ann", last_name=family)
    two = create(suite, user_id=f"f-{uuid.uuid4().hex[:8]}", last_name=family.upper())
    suite.http().post(f"{suite.url}/v1/contacts/{two['id']}/deactivate", timeout=15)

    def listed(**params) -> list[str]:
        answer = suite.http().get(suite.url + "/v1/contacts", params=params, timeout=15)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["data"]]

    assert listed(name=family.lower()) == [two["id"], one["id"]]
    assert listed(name=family, status="active") == [one["id"]]
    assert listed(name=family, subscribed="email") == [one["id"]]
    assert listed(name=family, subscribed="sms") == []
    for params, field in (
        ({"status": "gone"}, "status"),
        ({"subscribed": "pigeon"}, "subscribed"),
        ({"name": "x" * 101}, "name"),
    ):
        answer = suite.http().get(suite.url + "/v1/contacts", params=params, timeout=15)
        assert_problem(answer, 422, field)


def test_patch_changes_clears_and_refuses_read_only_fields(suite):
    contact = create(suite, email=unique_email(), first_name="Ann", language="en")
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    changed = suite.http().patch(url, json={"first_name": "Anna", "language": None}, timeout=15)
    assert changed.status_code == 200, changed.text
    assert changed.json()["first_name"] == "Anna" and changed.json()["language"] is None
    assert changed.json()["updated_at"] >= contact["updated_at"]
    assert_problem(suite.http().patch(url, json={"status": "inactive"}, timeout=15), 422, "status")
    assert_problem(
        suite.http().patch(url, json={"created_at": "2020-01-01T00:00:00Z"}, timeout=15),
        422,
        "created_at",
    )


def test_black_lists_subscriptions_and_status(suite):
    contact = create(suite, email=unique_email())
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    http = suite.http()
    listed = http.put(url + "/blacklists/email", json={"reason": "hard bounce"}, timeout=15)
    assert listed.status_code == 200, listed.text
    assert listed.json()["blacklists"]["email"]["reason"] == "hard bounce"
    assert listed.json()["blacklists"]["email"]["since"].endswith("Z")
    cleared = http.delete(url + "/blacklists/email", timeout=15)
    assert cleared.status_code == 200 and cleared.json()["blacklists"]["email"] is None
    assert_problem(http.put(url + "/blacklists/pigeon", json={}, timeout=15), 404)

    off = http.put(
        url + "/subscriptions/email",
        timeout=15,
        json={"status": "unsubscribed", "reason": "asked by phone"},
    )
    assert off.status_code == 200, off.text
    assert off.json()["subscriptions"]["email"]["status"] == "unsubscribed"
    assert off.json()["subscriptions"]["email"]["reason"] == "asked by phone"
    # Telegram was never subscribed: a hand-made subscribe is refused...
    assert_problem(
        http.put(url + "/subscriptions/telegram", json={"status": "subscribed"}, timeout=15), 409
    )
    # ...until the chat is registered, which subscribes it.
    chat = http.put(url + "/channels/telegram", json={"chat_id": "123456789"}, timeout=15)
    assert chat.status_code == 200, chat.text
    assert chat.json()["channels"]["telegram"] == {"chat_id": "123456789"}
    assert chat.json()["subscriptions"]["telegram"]["status"] == "subscribed"

    assert http.post(url + "/deactivate", timeout=15).json()["status"] == "inactive"
    assert http.post(url + "/activate", timeout=15).json()["status"] == "active"


def test_notes_are_capped_at_five_of_500_characters(suite):
    contact = create(suite, email=unique_email())
    url = f"{suite.url}/v1/contacts/{contact['id']}/notes"
    http = suite.http()
    assert_problem(http.post(url, json={"content": "x" * 501}, timeout=15), 422, "content")
    notes = [http.post(url, json={"content": f"note {i}"}, timeout=15) for i in range(5)]
    assert all(n.status_code == 201 for n in notes), [n.text for n in notes]
    assert notes[0].json()["author"] == "bootstrap"
    assert_problem(http.post(url, json={"content": "sixth"}, timeout=15), 409)
    assert http.delete(f"{url}/{notes[0].json()['id']}", timeout=15).status_code == 204
    listed = http.get(url, timeout=15).json()["data"]
    assert sorted(n["content"] for n in listed) == [f"note {i}" for i in range(1, 5)]


def test_erase_removes_the_contact_and_frees_its_identifiers(suite):
    email = unique_email()
    contact = create(suite, email=email)
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    suite.http().post(url + "/notes", json={"content": "call back"}, timeout=15)
    assert suite.http().delete(url, timeout=15).status_code == 204
    assert_problem(suite.http().get(url, timeout=15), 404)
    assert create(suite, email=email)["id"] != contact["id"]


def test_bad_input_gets_a_4xx_naming_the_field(suite):
    http, url = suite.http(), suite.url + "/v1/contacts"
    assert_problem(
        http.post(
            url, data=b'{"email": ', timeout=15, headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert_problem(http.post(url, json={"email": 5}, timeout=15), 422, "email")
    assert_problem(
        http.post(url, json={"email": unique_email(), "shoe_size": 44}, timeout=15),
        422,
        "shoe_size",
    )
    assert_problem(http.post(url, json={"phone": "12"}, timeout=15), 422, "phone")
    assert_problem(
        http.post(url, json={"email": unique_email(), "language": "xx"}, timeout=15),
        422,
        "language",
    )
    assert_problem(
        http.post(url, json={"email": unique_email(), "timezone": "Mars/Base"}, timeout=15),
        422,
        "timezone",
    )
    assert_problem(
        http.post(url, json={"email": unique_email(), "birthday": "2999-01-01"}, timeout=15),
        422,
        "birthday",
    )
    assert_problem(http.post(url, json={"first_name": "no identifier"}, timeout=15), 422)
    assert_problem(
        http.post(
            url,
            data=b"x" * (1024 * 1024 + 1),
            timeout=15,
            headers={"Content-Type": "application/json"},
        ),
        413,
    )
    taken = create(suite, email=unique_email())
    assert_problem(http.post(url, json={"email": taken["email"].upper()}, timeout=15), 409, "email")


def test_two_concurrent_creates_with_one_email_make_one_contact(suite):
    email = unique_email("race")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda _: suite.http().post(
                    suite.url + "/v1/contacts", json={"email": email}, timeout=15
                ),
                range(2),
            )
        )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    found = suite.http().get(suite.url + "/v1/contacts", params={"email": email}, timeout=15)
    assert len(found.json()["data"]) == 1


def test_batch_upsert_reports_each_item(suite):
    existing = create(suite, email=unique_email(), first_name="Old")
    items = [
        {"email": unique_email("b1")},
        {"email": "not-an-email"},
        {"email": existing["email"], "first_name": "New"},
    ]
    answer = suite.http().post(
        suite.url + "/v1/contacts/batch", json={"contacts": items}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "updated"]
    assert "email" in results[1]["errors"]
    assert results[2]["id"] == existing["id"]
    updated = suite.http().get(f"{suite.url}/v1/contacts/{existing['id']}", timeout=15)
    assert updated.json()["first_name"] == "New"


def test_idempotency_key_replays_the_first_answer(suite):
    http, url = suite.http(), suite.url + "/v1/contacts"
    body = {"email": unique_email("idem")}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = http.post(url, json=body, headers=headers, timeout=15)
    again = http.post(url, json=body, headers=headers, timeout=15)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = http.post(url, json={"email": unique_email("idem")}, headers=headers, timeout=15)
    assert_problem(other, 422, "Idempotency-Key")


def test_keys_scopes_and_revocation(suite):
    assert_problem(requests.get(suite.url + "/v1/contacts", timeout=15), 401)
    assert_problem(suite.http("plx_" + "x" * 43).get(suite.url + "/v1/contacts", timeout=15), 401)
    name = f"reader-{uuid.uuid4().hex[:6]}"
    made = suite.plexus("apikey", "create", "--name", name, "--scope", "contacts:read")
    assert made.returncode == 0, made.stderr
    secret = next(word for word in made.stdout.split() if word.startswith("plx_"))
    reader = suite.http(secret)
    assert reader.get(suite.url + "/v1/contacts", timeout=15).status_code == 200
    assert_problem(
        reader.post(suite.url + "/v1/contacts", json={"email": unique_email()}, timeout=15), 403
    )
    revoked = suite.plexus("apikey", "revoke", name)
    assert revoked.returncode == 0, revoked.stderr
    assert_problem(reader.get(suite.url + "/v1/contacts", timeout=15), 401)


def test_variables_sources_and_categories(suite):
    http = suite.http()
    name = f"plan_{uuid.uuid4().hex[:6]}"
    made = http.post(
        suite.url + "/v1/variables",
        timeout=15,
        json={"name": name, "type": "string", "scope": "contact"},
    )
    assert made.status_code == 201, made.text
    source = f"fair-{uuid.uuid4().hex[:6]}"
    assert (
        http.post(suite.url + "/v1/sources", json={"name": source}, timeout=15).status_code == 201
    )
    category = f"news-{uuid.uuid4().hex[:6]}"
    assert (
        http.post(
            suite.url + "/v1/categories",
            timeout=15,
            json={"name": category, "description": "weekly"},
        ).status_code
        == 201
    )
    contact = create(
        suite,
        email=unique_email(),
        source=source,
        variables={name: "gold"},
        categories={category: True},
    )
    assert contact["variables"] == {name: "gold"} and contact["source"] == source
    assert_problem(
        http.post(
            suite.url + "/v1/contacts",
            timeout=15,
            json={"email": unique_email(), "variables": {name: 5}},
        ),
        422,
        f"variables.{name}",
    )
    assert_problem(
        http.post(
            suite.url + "/v1/contacts",
            timeout=15,
            json={"email": unique_email(), "source": "nowhere"},
        ),
        422,
        "source",
    )
    usable = http.get(
        f"{suite.url}/v1/contacts/{contact['id']}/variables", params={"q": name}, timeout=15
    ).json()["data"]
    assert {"name": name, "kind": "variable", "value": "gold", "editable": True} in usable


def test_service_endpoints(suite):
    assert requests.get(suite.url + "/health", timeout=5).json() == {"status": "ok"}
    ready = requests.get(suite.url + "/ready", timeout=5)
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    status = requests.get(suite.url + "/status", timeout=5)
    assert status.status_code == 200 and status.json()["services"]["contacts"] == "ok"
    spec = requests.get(suite.url + "/openapi.json", timeout=5).json()
    assert spec["openapi"] == "3.1.0"
    assert "post" in spec["paths"]["/v1/contacts"]
    assert "Contact" in spec["components"]["schemas"]
    metrics = requests.get(
        f"http://127.0.0.1:{suite.env['PLEXUS_GATEWAY_METRICS_PORT']}/metrics", timeout=5
    )
    assert "plexus_gateway_requests_total" in metrics.text
    contacts_metrics = requests.get(
        f"http://127.0.0.1:{suite.env['PLEXUS_CONTACTS_METRICS_PORT']}/metrics", timeout=5
    )
    samples = {
        (sample.name, sample.labels.get("service"))
        for family in text_string_to_metric_families(contacts_metrics.text)
        for sample in family.samples
    }
    assert {
        ("plexus_rpc_duration_seconds_count", "contacts"),
        ("plexus_build_info", "contacts"),
    } <= samples
    assert_problem(requests.get(suite.url + "/v1/nothing-here", timeout=5), 404)
    assert_problem(suite.http().delete(suite.url + "/v1/contacts", timeout=5), 405)
    # A newline in the path is still routed by the gateway, not answered in HTML.
    assert_problem(suite.http().post(suite.url + "/v1/contacts/x%0Ay/deactivate", timeout=5), 404)
