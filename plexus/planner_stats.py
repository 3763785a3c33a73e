"""Keeping PostgreSQL's planner statistics up with bulk writes. A table that grew from
nothing to 100,000 rows in a minute (an import, a campaign's recipients) still looks
empty to the planner until ANALYZE runs, and a join planned for one row then walks every
row once per row of the other side: a segments batch that took 10 ms took a minute. The
autovacuum daemon analyzes such tables, but only after its naptime (a minute), and not
at all where it is turned off; so each service's Database (plexus.db) analyzes its own
tables whose rows changed by a good share since their last ANALYZE, every few seconds."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 10.0
# Like autovacuum's analyze threshold (50 rows + 10 %), with a floor that keeps small,
# busy tables (the outboxes) from being analyzed at every pass.
MIN_CHANGED, CHANGED_SHARE = 1_000, 0.1

STALE = text(
    "SELECT relname FROM pg_stat_user_tables"
    " WHERE schemaname = current_schema()"
    " AND n_mod_since_analyze > :least + :share * n_live_tup"
    " ORDER BY relname"
)


def stale_tables(connection) -> list[str]:
    rows = connection.execute(STALE, {"least": MIN_CHANGED, "share": CHANGED_SHARE})
    return [name for (name,) in rows]


def analyze_stale(engine: Engine) -> list[str]:
    """ANALYZE this engine's tables whose statistics are behind; the ones analyzed. A
    table another process is analyzing already is skipped (SKIP_LOCKED)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        tables = stale_tables(connection)
        preparer = engine.dialect.identifier_preparer
        for table in tables:
            connection.execute(text(f"ANALYZE (SKIP_LOCKED) {preparer.quote(table)}"))
    if tables:
        log.info("planner statistics refreshed: %s", ", ".join(tables))
    return tables
