"""Migration 0002 on a database that already holds contacts (SQLite and PostgreSQL):
they read back with `created_via` `api`, and what the migrations build is what the
models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from plexus.config import database_url
from plexus.db import make_engine
from plexus.migrations import migrate_service
from services.contacts.logic import reading
from services.contacts.models import Base


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def config(request, tmp_path):
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return {"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "DATABASE_URLS": {}}


def test_contacts_stored_before_0002_say_api(config):
    migrate_service(config, "contacts", "0001")
    engine = make_engine(*database_url(config, "contacts"))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contacts (id, email, gender, categories, contact_score, variables,"
                    " status, created_at, updated_at) VALUES ('01old0000000000000000000aa',"
                    " 'old@example.com', 0, '{}', 0, '{}', 'active', :now, :now)"
                ),
                {"now": "2026-01-02 03:04:05+00:00"},
            )
        migrate_service(config, "contacts")
        with engine.connect() as connection:
            [old] = reading.contacts_where(connection, id="01old0000000000000000000aa")
            assert (old["created_via"], old["age"]) == ("api", None)
            changes = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [c for c in changes if "created_via" in str(c)] == []
    finally:
        engine.dispose()
