"""The contacts logic on a real SQLite file, each call in its own transaction as the
service runs it."""

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from plexus.db import make_engine, transaction
from services.contacts.logic import catalog, contacts, variables
from services.contacts.models import Base, Outbox
from tests.unit.database import CONTACTS_SESSION_INFO

ACTOR = "crm-sync"


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'contacts.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_on_either(request, tmp_path):
    """An engine on SQLite, then on PostgreSQL: a module's `engine` fixture returning it
    runs its tests on both."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contacts.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return sessionmaker(engine, expire_on_commit=False, info=CONTACTS_SESSION_INFO)


@pytest.fixture
def run(sessions):
    """run(logic_function, *args): the function in a transaction of its own."""

    def call(logic, *args, **kwargs):
        with transaction(sessions) as session:
            return logic(session, *args, **kwargs)

    return call


@pytest.fixture
def outbox(sessions):
    """outbox(): the events recorded so far, as [(name, payload)], oldest first;
    outbox(name): the payloads of that event only."""

    def recorded(name=None):
        with transaction(sessions) as session:
            rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
            events = [(row.event_type, row.payload) for row in rows]
        return [payload for kind, payload in events if kind == name] if name else events

    return recorded


@pytest.fixture
def clear_outbox(sessions):
    """Forget the events so far (as the relay does once it published them)."""

    def clear():
        with transaction(sessions) as session:
            session.execute(delete(Outbox))

    return clear


@pytest.fixture
def create(run):
    """create(**fields): a stored contact, as the API answers it."""

    def make(**fields):
        return run(contacts.create_contact, fields, ACTOR)

    return make


@pytest.fixture
def registered(run):
    """Sources, categories and variable definitions the contacts below refer to."""
    run(catalog.create_source, {"name": "website"}, "tester")
    run(catalog.create_source, {"name": "shop"}, "tester")
    run(catalog.create_category, {"name": "newsletter", "description": "weekly news"}, "tester")
    run(catalog.create_category, {"name": "offers"}, "tester")
    run(variables.create_variable, {"name": "plan", "type": "string"}, "tester")
    run(variables.create_variable, {"name": "visits", "type": "number"}, "tester")
    run(variables.create_variable, {"name": "vip", "type": "boolean"}, "tester")
    run(variables.create_variable, {"name": "renewal", "type": "date"}, "tester")
    run(
        variables.create_variable,
        {"name": "company", "type": "string", "scope": "account", "value": "Plexus Ltd"},
        "tester",
    )
