"""GDPR erasure: after DELETE /v1/contacts/{id}, no table of any service, no message
waiting in any broker queue (dead-letter queues included) and no file a provider wrote
holds the contact's email, phone, user id or name, the logs never held them, and the
identifiers can be used again."""

import os
import time
import uuid
from pathlib import Path

from kombu import Connection
from sqlalchemy import create_engine, inspect, text

from plexus.config import database_url
from plexus.consumer import dead_letter_queue, event_queue
from plexus.contract.events import SUBSCRIPTIONS
from plexus.suite import SERVICES
from services.messaging import queues
from tests.polling import wait_for


def service_databases(suite) -> list[tuple[str, str, str | None]]:
    config = {
        "DATA_DIR": suite.env["PLEXUS_DATA_DIR"],
        "DATABASE_URL": suite.env.get("PLEXUS_DATABASE_URL"),
    }
    found = []
    for service in SERVICES:
        url, schema = database_url(config, service)
        if url.startswith("sqlite") and not url.endswith(f"{service}.db"):
            continue
        found.append((service, url, schema))
    return found


def rows_mentioning(suite, markers: list[str], databases=None) -> list[str]:
    """Every (service, table) whose rows contain one of the markers, as text; in every
    service's database, or in `databases` (of service_databases) only."""
    hits = []
    for service, url, schema in databases or service_databases(suite):
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1]
            if not os.path.exists(path):
                continue
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
        try:
            with engine.connect() as connection:
                for table in inspect(connection).get_table_names(schema=schema):
                    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
                    for row in connection.execute(text(f"SELECT * FROM {name}")):
                        flat = " ".join(str(value) for value in row).lower()
                        hits += [f"{service}.{table}: {m}" for m in markers if m.lower() in flat]
        finally:
            engine.dispose()
    return hits


def files_mentioning(suite, markers: list[str]) -> list[str]:
    """The outbox provider's files (and anything else under the data dir but the
    databases and the log) that contain a marker."""
    root = Path(suite.env["PLEXUS_DATA_DIR"])
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm", ".log"):
            text = path.read_bytes().decode(errors="replace").lower()
            hits += [f"{path.relative_to(root)}: {m}" for m in markers if m.lower() in text]
    return hits


def queued_mentioning(suite, markers: list[str]) -> list[str]:
    """Messages waiting in any queue of the suite's vhost that contain a marker: each is
    read without acknowledging it and goes back to its queue when the channel closes."""
    hits = []
    with Connection(suite.env["PLEXUS_AMQP_URI"]) as connection:
        names = [
            q.name
            for consumer, sources in SUBSCRIPTIONS.items()
            for source in sources
            for q in (event_queue(consumer, source), dead_letter_queue(consumer, source))
        ]
        names += [q.name for q in queues.all_queues()]
        channel = connection.channel()
        for name in names:
            try:
                while (message := channel.basic_get(name, no_ack=False)) is not None:
                    text = (
                        message.body.decode(errors="replace").lower()
                        if isinstance(message.body, bytes)
                        else str(message.body).lower()
                    )
                    hits += [f"{name}: {m}" for m in markers if m.lower() in text]
            except Exception:  # not declared on this vhost
                channel = connection.channel()
        channel.close()
    return hits


def test_erasure_leaves_no_trace_in_any_service(suite):
    http = suite.http()
    tag = uuid.uuid4().hex[:10]
    email, user_id, name = f"erase-{tag}@example.com", f"user-{tag}", f"Zora{tag}"
    phone = f"+38063{int(tag[:7], 16) % 10**7:07d}"
    contact = http.post(
        suite.url + "/v1/contacts",
        timeout=15,
        headers={"Idempotency-Key": f"create-{tag}"},
        json={"email": email, "user_id": user_id, "phone": phone, "first_name": name},
    ).json()
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    assert (
        http.post(url + "/notes", json={"content": f"call {name}"}, timeout=15).status_code == 201
    )
    assert (
        http.post(
            suite.url + "/v1/events",
            timeout=15,
            json={"contact": {"email": email}, "name": "viewed", "properties": {"who": name}},
        ).status_code
        == 202
    )
    sent = http.post(
        suite.url + "/v1/messages",
        timeout=15,
        json={
            "contact": {"id": contact["id"]},
            "channel": "email",
            "content": {"subject": "Hi", "text": f"Hello {name}", "html": f"<p>Hello {name}</p>"},
        },
    )
    assert sent.status_code == 202, sent.text
    feed = f"{url}/activity"
    deadline = time.monotonic() + 10
    while len(http.get(feed, timeout=15).json()["data"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    markers = [email, user_id, phone, name]
    assert rows_mentioning(suite, markers), "the scan found nothing even before erasure"
    wait_for(lambda: files_mentioning(suite, markers), 10, "the outbox provider's file")

    assert http.delete(url, timeout=15).status_code == 204
    deadline = time.monotonic() + 10
    while (left := rows_mentioning(suite, markers)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert left == []
    wait_for(lambda: not files_mentioning(suite, markers), 10, "the provider's files to go")
    assert queued_mentioning(suite, markers) == []

    log = suite.log.read_text().lower()
    assert not [m for m in markers if m.lower() in log]
    again = http.post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={"email": email, "user_id": user_id, "phone": phone},
    )
    assert again.status_code == 201, again.text


def test_erasure_leaves_black_listed_addresses_as_hashes_only(suite):
    """An erased contact's black-listed and unsubscribed addresses stay suppressed, but no
    row of the contacts database holds any of them in clear text."""
    http = suite.http()
    tag = uuid.uuid4().hex[:10]
    email, viber = f"listed-{tag}@example.com", f"vb-{tag}"
    phone = f"+38066{int(tag[:7], 16) % 10**7:07d}"
    contact = http.post(
        suite.url + "/v1/contacts", timeout=15, json={"email": email, "phone": phone}
    ).json()
    url = f"{suite.url}/v1/contacts/{contact['id']}"
    assert http.put(url + "/channels/viber", json={"user_id": viber}, timeout=15).status_code == 200
    assert (
        http.put(
            url + "/blacklists/email", json={"reason": f"bounced {email}"}, timeout=15
        ).status_code
        == 200
    )
    assert (
        http.put(f"{suite.url}/v1/blacklists/viber/{viber}", json={}, timeout=15).status_code == 200
    )
    assert (
        http.put(
            url + "/subscriptions/sms", json={"status": "unsubscribed"}, timeout=15
        ).status_code
        == 200
    )
    markers = [email, phone, viber]
    contacts_db = [db for db in service_databases(suite) if db[0] == "contacts"]
    assert rows_mentioning(suite, markers, contacts_db)

    assert http.delete(url, timeout=15).status_code == 204
    assert rows_mentioning(suite, markers, contacts_db) == []
    # Still suppressed: whoever takes them next starts where the erased contact ended.
    again = http.post(
        suite.url + "/v1/contacts", timeout=15, json={"email": email, "phone": phone}
    ).json()
    assert again["blacklists"]["email"] is not None
    assert again["subscriptions"]["sms"]["status"] == "unsubscribed"
