"""The suite under the broker users scripts/rabbitmq-users.sh makes, on a vhost of its
own: every service connects as its own user, limited to the exchanges and queues it
uses, and the suite still works end to end (a contact, its segment, an email sent by the
sender and reported back, the activity feed fed by three services' events, an erasure
every consumer hears of) with no access refused in any log; while a sender's user may
not publish to an events exchange, nor the gateway's to any, nor read another service's
queue, nor a sender's call an RPC it does not make; and KEDA's user only reads queue
lengths."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
import uuid

import amqp
import pytest
from kombu import Connection

from tests.conftest import BROKER_HOST
from tests.e2e.conftest import ROOT, start_suite, stop_suite, suite_env
from tests.polling import wait_for

SCRIPT = ROOT / "scripts" / "rabbitmq-users.sh"


@pytest.fixture(scope="module")
def broker_users(amqp_uri, tmp_path_factory):
    """{PLEXUS_<SERVICE>_AMQP_URI: uri, PLEXUS_AMQP_URI: the admin's}, on the module's
    vhost; the users are deleted afterwards (user names are the broker's, not a vhost's:
    a prefix of their own keeps them from anyone else's)."""
    vhost = urllib.parse.unquote(amqp_uri.rsplit("/", 1)[1])
    host, port = BROKER_HOST.split(":")
    prefix = f"test-{uuid.uuid4().hex[:6]}-"
    out = tmp_path_factory.mktemp("broker-users") / "users.env"
    made = subprocess.run(
        [
            "bash",
            str(SCRIPT),
            "--vhost",
            vhost,
            "--host",
            host,
            "--port",
            port,
            "--prefix",
            prefix,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    yield dict(line.split("=", 1) for line in out.read_text().splitlines())
    subprocess.run(
        ["bash", str(SCRIPT), "--prefix", prefix, "--delete"],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def restricted_suite(broker_users, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("restricted-suite")
    env = suite_env(broker_users["PLEXUS_AMQP_URI"], data_dir, None)
    env.update(broker_users)
    suite = start_suite(env, data_dir / "suite.log")
    yield suite
    stop_suite(suite)
    log = suite.log.read_text()
    assert suite.process.returncode == 0, log[-4000:]
    assert "ACCESS_REFUSED" not in log, (
        "a service was refused by the broker:\n"
        + "\n".join(line for line in log.splitlines() if "ACCESS_REFUSED" in line)[:4000]
    )


def test_each_service_runs_as_its_own_user(restricted_suite, broker_users):
    users = {uri.split("://", 1)[1].split(":", 1)[0] for uri in broker_users.values()}
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "user", "vhost"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    vhost = urllib.parse.unquote(broker_users["PLEXUS_AMQP_URI"].rsplit("/", 1)[1])
    connected = {line.split("\t")[0] for line in listed.splitlines() if line.endswith("\t" + vhost)}
    # The admin's is for migrate and the CLI, KEDA's for KEDA: no service runs as either.
    services = {user for user in users if not user.endswith(("-admin", "-keda"))}
    assert services <= connected, f"not connected: {sorted(services - connected)}"


def test_the_suite_works_under_restricted_users(restricted_suite):
    suite = restricted_suite
    http = suite.http()
    segment = http.post(
        suite.url + "/v1/segments",
        timeout=15,
        json={"name": "speaks-uk", "rule": {"field": "language", "op": "eq", "value": "uk"}},
    )
    assert segment.status_code == 201, segment.text
    person = http.post(
        suite.url + "/v1/contacts",
        timeout=15,
        json={"email": f"u-{uuid.uuid4().hex[:8]}@example.com", "language": "uk"},
    )
    assert person.status_code == 201, person.text
    contact_id = person.json()["id"]
    sent = http.post(
        suite.url + "/v1/messages",
        timeout=15,
        json={
            "contact": {"id": contact_id},
            "channel": "email",
            "content": {"subject": "Hi", "text": "Hello"},
        },
    )
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["id"]

    # messaging -> plexus.messages -> sender_email -> the outbox file, then its report
    # back to messaging by RPC, then message_sent on messaging.events.
    outbox = suite.env["PLEXUS_OUTBOX_DIR"] + f"/email/{contact_id}/{message_id}.json"
    wait_for(lambda: os.path.exists(outbox), what="the sender's file")

    def history():
        answer = http.get(f"{suite.url}/v1/messages/{message_id}", timeout=15)
        return [entry["status"] for entry in answer.json()["history"]]

    wait_for(lambda: "sent" in history(), what="the sender's report")
    # contacts.events -> segments; segments.events and messaging.events -> activity.
    wait_for(
        lambda: any(
            s["id"] == segment.json()["id"]
            for s in http.get(f"{suite.url}/v1/contacts/{contact_id}/segments", timeout=15).json()[
                "data"
            ]
        ),
        what="the contact in its segment",
    )

    def feed():
        items = http.get(f"{suite.url}/v1/contacts/{contact_id}/activity", timeout=15).json()[
            "data"
        ]
        types = {item["type"] for item in items}
        return types if {"added_to_segment", "sent"} <= types else None

    wait_for(feed, what="the activity feed")

    # contact_deleted on contacts.events -> every consumer, the sender forgetting its file.
    erased = http.delete(f"{suite.url}/v1/contacts/{contact_id}", timeout=15)
    assert erased.status_code == 204, erased.text
    wait_for(lambda: not os.path.exists(outbox), what="the sender to forget the file")


def refused(uri: str, work) -> bool:
    """Whether the broker refuses `work(channel)` to the user of `uri` (403)."""
    with Connection(uri, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            work(channel)
        except amqp.exceptions.AccessRefused:
            return True
    return False


def publish(exchange: str, routing_key: str = "test.probe"):
    def work(channel):
        # Confirmed: the refusal (or the broker's ack) comes before we go on. No queue is
        # bound to the routing key, so an allowed probe reaches no one.
        channel.confirm_select()
        channel.basic_publish_confirm(
            amqp.Message(b'{"event_id": "forged"}'),
            exchange=exchange,
            routing_key=routing_key,
        )

    return work


def consume(queue: str):
    return lambda channel: channel.basic_consume(queue, callback=lambda message: None)


def length_of(queue: str):
    """What KEDA's rabbitmq scaler does to read a queue's length: a passive declare."""
    return lambda channel: channel.queue_declare(queue, passive=True)


@pytest.mark.parametrize(
    ("service", "work", "allowed"),
    [
        ("SENDER_EMAIL", publish("contacts.events"), False),
        ("SENDER_EMAIL", publish("messaging.events"), False),
        ("SENDER_EMAIL", publish("plexus.messages"), False),
        ("SENDER_EMAIL", consume("plexus.messages.sms"), False),
        ("SENDER_EMAIL", consume("plexus.events.contacts.activity"), False),
        ("GATEWAY", publish("contacts.events"), False),
        ("GATEWAY", consume("plexus.messages.email"), False),
        ("MESSAGING", publish("contacts.events"), False),
        ("SEGMENTS", publish("activity.events"), False),
        # A sender calls the RPCs it makes, and no other (topic permissions on nameko-rpc).
        ("SENDER_EMAIL", publish("nameko-rpc", "contacts.delete_contact"), False),
        ("SENDER_EMAIL", publish("nameko-rpc", "messaging.send_message"), False),
        # What each does need still goes through: replies, RPCs, its own events.
        ("SENDER_EMAIL", publish("nameko-rpc", "rpc.reply-plexus-0"), True),
        ("GATEWAY", publish("nameko-rpc"), True),
        ("CONTACTS", publish("contacts.events"), True),
        # KEDA's user reads a sender queue's length, and may neither take nor queue a message.
        ("KEDA", length_of("plexus.messages.email"), True),
        ("KEDA", consume("plexus.messages.email"), False),
        ("KEDA", publish("plexus.messages", "email"), False),
    ],
)
def test_a_user_may_do_only_what_its_service_does(
    restricted_suite, broker_users, service, work, allowed
):
    assert refused(broker_users[f"PLEXUS_{service}_AMQP_URI"], work) is not allowed
