"""Reading contacts: one statement a read (the contact with its collections, on SQLite
and PostgreSQL), outside any ORM session, answering exactly what the writes answered."""

import psycopg2
import psycopg2.extensions
import pytest
from sqlalchemy import create_engine, event

from plexus.db import autocommit, make_engine
from plexus.errors import NotFound, Unavailable
from services.contacts.logic import blacklists, channels, contacts, reading, subscriptions
from services.contacts.models import Base

ACTOR = "crm-sync"
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"


# Every statement the driver is given, whatever the layer above it: the reads go to the
# driver's cursor directly, past SQLAlchemy's events.
SENT: list[str] = []


class CountingCursor(psycopg2.extensions.cursor):
    def execute(self, query, arguments=None):
        SENT.append(query)
        return super().execute(query, arguments)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'contacts.db'}")
        event.listen(engine, "connect", lambda dbapi, _: dbapi.set_trace_callback(SENT.append))
    else:
        url = request.getfixturevalue("postgres_url")
        engine = create_engine(
            url.replace("postgresql://", "postgresql+psycopg2://"),
            connect_args={"cursor_factory": CountingCursor},
        )
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def rich(run, registered):
    """A contact with something in every collection; its last write's answer."""
    made = run(
        contacts.create_contact,
        {
            "email": "Olena@Example.com",
            "phone": "+380501234567",
            "first_name": "Olena",
            "birthday": "1990-05-17",
            "address": {"country": "UA", "city": "Kyiv"},
            "categories": {"newsletter": True},
            "variables": {"plan": "gold", "visits": 3},
            "source": "website",
        },
        ACTOR,
    )
    run(blacklists.add_to_blacklist, made["id"], "phone", {"reason": "asked"}, ACTOR)
    run(channels.set_channel_address, made["id"], "telegram", {"chat_id": 7}, ACTOR)
    run(channels.set_channel_address, made["id"], "viber", {"user_id": "vb-1"}, ACTOR)
    run(blacklists.add_to_blacklist, made["id"], "viber", {"reason": "blocked"}, ACTOR)
    for n, device in enumerate(("mobile", "desktop")):
        run(
            channels.add_webpush_subscription,
            made["id"],
            {
                "endpoint": f"https://fcm.googleapis.com/fcm/send/{n}",
                "device": device,
                "keys": {"p256dh": P256DH, "auth": "tBHItJI5svbpez7KI4CCXg"},
            },
            ACTOR,
        )
    return run(
        subscriptions.set_subscription,
        made["id"],
        "email",
        {"status": "unsubscribed", "reason": "too many"},
        ACTOR,
    )


def statements(engine, read):
    """What `read(connection)` answers, and the statements the driver was given."""
    with autocommit(engine) as connection:
        connection.exec_driver_sql("SELECT 1")  # connected (SQLite pragmas) before counting
        SENT.clear()
        return read(connection), list(SENT)


def test_a_contact_is_read_in_one_statement_as_its_writes_answered_it(engine, rich):
    assert rich["channels"]["webpush"][0]["device"] == "mobile"  # the first registered
    assert rich["blacklists"]["phone"]["reason"] == "asked"
    assert rich["blacklists"]["viber"]["reason"] == "blocked"
    assert rich["subscriptions"]["email"]["status"] == "unsubscribed"
    assert rich["channels"]["telegram"] == {"chat_id": "7"}

    read, sent = statements(engine, lambda c: contacts.get_contact(c, rich["id"]))
    assert read == rich
    assert len(sent) == 1

    found, sent = statements(engine, lambda c: contacts.find_contacts(c, email="olena@example.COM"))
    assert found == {"data": [rich], "next_cursor": None}
    assert len(sent) == 1


def test_a_page_of_contacts_is_one_statement(engine, run, rich):
    others = [run(contacts.create_contact, {"user_id": f"u-{n}"}, ACTOR) for n in range(3)]
    first, sent = statements(engine, lambda c: contacts.find_contacts(c, limit=2))
    assert first["data"] == [others[2], others[1]] and len(sent) == 1
    second = run(contacts.find_contacts, limit=2, cursor=first["next_cursor"])
    assert second == {"data": [others[0], rich], "next_cursor": None}


def test_a_bare_contact_reads_with_empty_collections(engine, run):
    made = run(contacts.create_contact, {"user_id": "bare"}, ACTOR)
    read, _ = statements(engine, lambda c: contacts.get_contact(c, made["id"]))
    assert read == made
    assert read["channels"] == {"telegram": None, "viber": None, "webpush": [], "app_push": []}
    assert set(read["blacklists"].values()) == {None}


@pytest.mark.postgres
def test_after_the_database_dropped_its_connections_one_read_fails_and_the_next_connects(
    postgres_url,
):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    try:
        held = [engine.connect() for _ in range(3)]  # three connections in the pool
        for connection in held:
            connection.close()
        admin = psycopg2.connect(postgres_url)
        admin.autocommit = True
        with admin.cursor() as cursor:  # what a database restart does to them
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        admin.close()
        with pytest.raises(Unavailable), reading.connection_for_reads(engine) as connection:
            contacts.get_contact(connection, "0" * 26)
        # Not the next dead connection of the pool: a new one.
        with pytest.raises(NotFound), reading.connection_for_reads(engine) as connection:
            contacts.get_contact(connection, "0" * 26)
    finally:
        engine.dispose()
