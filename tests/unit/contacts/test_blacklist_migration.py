"""Migration 0003: yesterday's per-contact black-list rows move onto their contact's
current address, and the schema ends as the models say."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from plexus.db import make_engine
from plexus.migrations import migrate_service
from services.contacts.models import Base

SINCE = "2026-01-02 03:04:05"
CONTACTS = [  # id, email, phone
    ("01jdx0000000000000000000a1", "a@example.com", "+380501234567"),
    ("01jdx0000000000000000000a2", None, "+380501234568"),
]
OLD_ROWS = [  # contact_id, list, reason
    ("01jdx0000000000000000000a1", "email", "bounced"),
    ("01jdx0000000000000000000a1", "viber", "blocked"),
    ("01jdx0000000000000000000a2", "phone", None),
    ("01jdx0000000000000000000a2", "email", "no email any more: nothing to move"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contacts.db'}"
    return request.getfixturevalue("postgres_url")


def test_entries_move_onto_the_current_addresses(url):
    config = {"DATABASE_URLS": {"contacts": url}}
    migrate_service(config, "contacts", "0002")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for contact_id, email, phone in CONTACTS:
                connection.execute(
                    text(
                        "INSERT INTO contacts (id, email, phone, gender, categories, contact_score,"
                        " variables, status, created_at, updated_at) VALUES (:id, :email, :phone,"
                        " 0, '{}', 0, '{}', 'active', :at, :at)"
                    ),
                    {"id": contact_id, "email": email, "phone": phone, "at": SINCE},
                )
            connection.execute(
                text(
                    "INSERT INTO channel_addresses (contact_id, channel, address, created_at,"
                    " updated_at) VALUES (:id, 'viber', 'vb-1', :at, :at)"
                ),
                {"id": CONTACTS[0][0], "at": SINCE},
            )
            for contact_id, list_name, reason in OLD_ROWS:
                connection.execute(
                    text(
                        "INSERT INTO blacklists (contact_id, list, since, reason)"
                        " VALUES (:id, :list, :at, :reason)"
                    ),
                    {"id": contact_id, "list": list_name, "at": SINCE, "reason": reason},
                )
        migrate_service(config, "contacts")
        with engine.connect() as connection:
            moved = connection.execute(
                text("SELECT list, value, reason, source FROM blacklist_entries ORDER BY list")
            ).all()
            assert [tuple(row) for row in moved] == [
                ("email", "a@example.com", "bounced", "manual"),
                ("phone", "+380501234568", None, "manual"),
                ("viber", "vb-1", "blocked", "manual"),
            ]
            assert "blacklists" not in inspect(connection).get_table_names()
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert differences == []
    finally:
        engine.dispose()
