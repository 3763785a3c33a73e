"""What the unit tests of every service share."""

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh database on SQLite, then on PostgreSQL: a module whose sessions come from
    it (tests/unit/database.migrated_sessions) runs its tests on both. A directory's
    conftest or a module may define its own instead (activity: SQLite alone)."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'service.db'}"
