"""Models and migrations agree, on SQLite and on PostgreSQL, and `plexus migrations`
writes the next revision and finds a model that went ahead of its migrations."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Column, String

from ops.cli import cli
from plexus.config import database_url
from plexus.db import make_engine
from plexus.migrations import differences, migrate_service, scratch_at_head, with_migrations


def models(service: str):
    return importlib.import_module(f"services.{service}.models")


def test_check_passes_on_the_tree_as_committed():
    answer = CliRunner().invoke(cli, ["migrations", "check"])
    assert answer.exit_code == 0, answer.output
    assert [line.split(":")[0] for line in answer.output.splitlines()] == with_migrations()


@pytest.mark.postgres
@pytest.mark.parametrize("service", with_migrations())
def test_the_models_match_the_migrated_postgres_schema(service, postgres_url):
    config = {"DATABASE_URL": postgres_url}
    migrate_service(config, service)
    engine = make_engine(*database_url(config, service))
    try:
        with engine.connect() as connection:
            module = models(service)
            assert (
                differences(connection, module.Base.metadata, getattr(module, "RETIRED_TABLES", ()))
                == []
            )
    finally:
        engine.dispose()


def test_a_column_the_migrations_lack_is_a_difference():
    metadata = models("segments").Base.metadata
    segments = metadata.tables["segments"]
    column = Column("colour", String(10))
    segments.append_column(column)
    try:
        with scratch_at_head("segments") as (_cfg, connection):
            found = differences(connection, metadata)
    finally:
        segments._columns.remove(column)
    assert [(kind, column.name) for kind, _schema, _table, column in found] == [
        ("add_column", "colour")
    ]


def test_new_writes_the_next_revision_after_the_newest():
    with scratch_at_head("segments") as (cfg, _connection):
        head = ScriptDirectory.from_config(cfg).get_current_head()
    answer = CliRunner().invoke(cli, ["migrations", "new", "segments", "nothing changed"])
    assert answer.exit_code == 0, answer.output
    path = Path(answer.output.strip())
    try:
        spec = importlib.util.spec_from_file_location("revision", path)
        revision = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(revision)
        assert (revision.down_revision, int(revision.revision)) == (head, int(head) + 1)
        assert "nothing changed" in revision.__doc__
    finally:
        path.unlink()
