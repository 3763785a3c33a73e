"""scripts/rabbitmq-users.sh, read against the code that names the exchanges and queues
(no broker needed; tests/e2e/test_broker_users.py runs the suite under its users): each
service may declare, publish to and consume what it does, and nothing that is another's."""

import inspect
import re
import subprocess

import pytest

from plexus.config import PROJECT_ROOT
from plexus.consumer import DEAD_LETTER_EXCHANGE, queue_name
from plexus.contract.events import SUBSCRIPTIONS
from plexus.suite import SERVICES
from services.messaging import ports, queues

SCRIPT = PROJECT_ROOT / "scripts" / "rabbitmq-users.sh"
PUBLISHERS = sorted({source for sources in SUBSCRIPTIONS.values() for source in sources})
SENDERS = [name for name in SERVICES if name.startswith("sender_")]


@pytest.fixture(scope="module")
def rights():
    """{service: {"configure"|"write"|"read"|"calls": compiled regex}}, as the script sets
    them ("calls": the routing keys it may publish to nameko-rpc)."""
    printed = subprocess.run(
        ["bash", str(SCRIPT), "--print"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    found = {}
    for line in printed.splitlines():
        name, *regexes = line.split("\t")
        found[name] = dict(
            zip(("configure", "write", "read", "calls"), map(re.compile, regexes), strict=True)
        )
    return found


def may(rights, service: str, right: str, name: str) -> bool:
    return rights[service][right].match(name) is not None


def test_every_service_has_a_user(rights):
    assert sorted(rights) == sorted(SERVICES)


@pytest.mark.parametrize(
    ("consumer", "source"),
    [(consumer, source) for consumer, sources in SUBSCRIPTIONS.items() for source in sources],
)
def test_each_consumer_may_declare_bind_and_read_its_queues(rights, consumer, source):
    queue, exchange, dlx = (
        queue_name(consumer, source),
        f"{source}.events",
        DEAD_LETTER_EXCHANGE.name,
    )
    for name in (queue, f"{queue}.dead", exchange, dlx):
        assert may(rights, consumer, "configure", name), name
    for name in (queue, f"{queue}.dead", dlx):
        assert may(rights, consumer, "write", name), name
    for name in (queue, exchange, dlx):
        assert may(rights, consumer, "read", name), name


@pytest.mark.parametrize("service", list(SERVICES))
def test_only_a_service_publishes_its_own_events(rights, service):
    for source in PUBLISHERS:
        assert may(rights, service, "write", f"{source}.events") is (source == service)


@pytest.mark.parametrize("service", [name for name in SERVICES if name != "gateway"])
def test_each_service_answers_rpcs_on_its_own_queue_only(rights, service):
    for right in ("configure", "write", "read"):
        assert may(rights, service, right, f"rpc-{service}")
        assert may(rights, service, right, "nameko-rpc")
    others = [name for name in SERVICES if name != service]
    assert not any(may(rights, service, "read", f"rpc-{other}") for other in others)


def test_messaging_queues_deliveries_and_only_senders_consume_them(rights):
    assert may(rights, "messaging", "write", queues.EXCHANGE.name)
    for queue in queues.all_queues():
        assert may(rights, "messaging", "configure", queue.name)
    for sender in SENDERS:
        channel = sender.removeprefix("sender_")
        own = queues.queue_name(channel)
        assert may(rights, sender, "read", own) and may(rights, sender, "configure", own)
        assert not may(rights, sender, "write", queues.EXCHANGE.name)
        for other in SENDERS:
            if other != sender:
                assert not may(
                    rights, sender, "read", queues.queue_name(other.removeprefix("sender_"))
                )


def rpcs_senders_make() -> set[str]:
    """service.method of every RPC a sender makes: the messaging port's, and the contacts
    port's methods the senders' code calls or hands on (`contacts.<method>`), each called once on a
    port that records what it would send."""
    made: set[str] = set()

    def record(service, method, *args, **kwargs):
        made.add(f"{service}.{method}")
        return {"data": []}

    used = set(
        re.findall(
            r"\bcontacts\.(\w+)",
            "".join(
                path.read_text()
                for path in (PROJECT_ROOT / "services" / "messaging" / "senders").rglob("*.py")
            ),
        )
    )
    for port, methods in ((ports.MessagingPort(record), None), (ports.ContactsPort(record), used)):
        for name, method in inspect.getmembers(port, inspect.ismethod):
            if name.startswith("_") or (methods is not None and name not in methods):
                continue
            method(*["x"] * len(inspect.signature(method).parameters))
    return made


def test_senders_may_call_the_rpcs_they_make_and_no_other(rights):
    made = rpcs_senders_make()
    assert {
        "messaging.claim_delivery",
        "contacts.webpush_subscriptions",
        "contacts.app_push_tokens",
    } <= made
    # The contacts RPCs each push sender reads its addresses with, and no other's.
    contacts_calls = {"sender_webpush": "webpush", "sender_app_push": "app_push"}
    for sender in SENDERS:
        for key in made:
            if key.startswith("contacts."):
                own = contacts_calls.get(sender)
                allowed = own is not None and own in key
                assert may(rights, sender, "calls", key) == allowed, (sender, key)
                continue
            assert may(rights, sender, "calls", key), (sender, key)
        for key in (
            "contacts.delete_contact",
            "contacts.set_subscription",
            "messaging.send_message",
            "activity.record_event",
            "segments.preview",
        ):
            assert not may(rights, sender, "calls", key), (sender, key)
        assert may(rights, sender, "calls", "rpc.reply-plexus-0a1b")  # answering a ping
    assert not may(rights, "sender_email", "calls", "contacts.webpush_subscriptions")
