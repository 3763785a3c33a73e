"""What messaging's migrations build is what its models describe, on SQLite and
PostgreSQL: the dedupe key, trigger, translations, held_until and the settings table."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from plexus.config import database_url
from plexus.db import make_engine
from plexus.migrations import migrate_service
from services.messaging.models import Base


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def config(request, tmp_path):
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return {"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "DATABASE_URLS": {}}


def test_the_migrated_database_is_the_models(config):
    migrate_service(config, "messaging")
    engine = make_engine(*database_url(config, "messaging"))
    try:
        with engine.connect() as connection:
            changes = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert changes == []
