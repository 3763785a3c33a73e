"""A service killed between its database commit and its publish: the event waits in its
outbox table and the next process of that service publishes it."""

import subprocess
import sys
import time

from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from sqlalchemy.orm import sessionmaker

from plexus.config import PROJECT_ROOT
from plexus.contract import events
from plexus.db import make_engine, transaction
from services.contacts.logic.contacts import create_contact
from tests.faults.test_consumer_crash import environment
from tests.unit.database import CONTACTS_SESSION_INFO


def test_an_event_committed_by_a_dead_process_is_published_by_the_next(amqp_uri, tmp_path):
    env = environment(amqp_uri, tmp_path)
    env["PLEXUS_CONTACTS_METRICS_PORT"] = "0"
    subprocess.run(
        [sys.executable, "-m", "ops.cli", "migrate", "contacts"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    listener = Queue(
        "fault-test-contacts",
        get_event_exchange(events.CONTACTS),
        routing_key=events.CONTACT_CREATED,
        auto_delete=False,
    )
    with Connection(amqp_uri) as connection:
        listener(connection.channel()).declare()

    # The writer commits the contact and its event, then dies before any relay ran.
    engine = make_engine(f"sqlite:///{tmp_path / 'contacts.db'}")
    with transaction(sessionmaker(engine, info=CONTACTS_SESSION_INFO)) as session:
        contact = create_contact(session, {"email": "crash@example.com"}, "fault-test")
    engine.dispose()

    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(PROJECT_ROOT / "config.yaml"),
            "services.contacts.entrypoints:ContactsService",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with Connection(amqp_uri) as connection:
            queue = listener(connection.channel())
            deadline, message = time.monotonic() + 30, None
            while message is None and time.monotonic() < deadline:
                message = queue.get(no_ack=True)
                time.sleep(0.1)
    finally:
        service.terminate()
        service.wait(timeout=30)
    assert message is not None, "the committed event was never published"
    assert message.payload["contact_id"] == contact["id"]
    assert message.payload["event"] == events.CONTACT_CREATED
