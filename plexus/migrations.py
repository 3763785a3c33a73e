"""Schema migrations: every service keeps an alembic history under
services/<name>/migrations and `plexus migrate` brings each database to head.
The services' env.py files call run_migrations() with their own metadata."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config

from plexus.config import database_url
from plexus.db import ensure_schema, make_engine
from plexus.suite import SERVICES


def _script_location(service: str) -> Path:
    # The package holding the service class: services.contacts for contacts, and for a
    # service living inside another's package (the senders) that package's subpackage.
    module = SERVICES.get(service, f"services.{service}.entrypoints").split(":")[0]
    package = importlib.import_module(module.rsplit(".", 1)[0])
    # __path__, not __file__: a service still without __init__.py is a namespace package.
    return Path(next(iter(package.__path__))) / "migrations"


def alembic_config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_script_location(service)))
    return cfg


def migrate_service(config: dict, service: str, revision: str = "head") -> None:
    url, schema = database_url(config, service)
    engine = make_engine(url, schema)
    try:
        ensure_schema(engine, schema)
        cfg = alembic_config(service)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def migrate_all(config: dict, services=None) -> list[str]:
    done = []
    for service in services or SERVICES:
        if _script_location(service).exists():
            migrate_service(config, service)
            done.append(service)
    return done


def run_migrations(target_metadata) -> None:
    """Called from a service's migrations/env.py, inside `alembic` or migrate_service()."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `plexus migrate`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
