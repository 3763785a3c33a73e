"""Where one batch of the import spends its time: `batch_upsert` of 1,000 new contacts
(bench/batch_import.py's rows) in this process, under cProfile, on a fresh PostgreSQL
database (or SQLite with --sqlite). No HTTP, no RPC: the contacts service's logic alone.

    .venv/bin/python -m bench.batch_profile [--items 1000] [--sqlite] [--top 25]

Prints the batch's wall time, the time per package (own time of the functions in it, so
the shares add up) and the functions with the most own time."""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict

from sqlalchemy.orm import sessionmaker

from bench.batch_import import person
from bench.harness import arguments, drop_database, fresh_database
from plexus.db import make_engine, transaction
from services.contacts.logic.addresses import SUPPRESSION_KEY
from services.contacts.logic.batch import batch_upsert
from services.contacts.models import Base

# Packages named by the first of these found in a function's file path.
PACKAGES = (
    "marshmallow",
    "email_validator",
    "phonenumbers",
    "sqlalchemy",
    "psycopg2",
    "sqlite3",
    "idna",
    "json",
    "plexus/",
    "services/contacts",
    "bench/",
)


def package(filename: str) -> str | None:
    for name in PACKAGES:
        if name in filename:
            return name.rstrip("/")
    return None


def own_time_by_package(stats: pstats.Stats) -> dict[str, float]:
    """Each function's own time under its package. A function of C or of the standard
    library (dict.items, a driver's cursor.execute, json's encoder) counts for the package
    that called it, unless its own name says where it belongs (psycopg2, sqlite3): so
    the time SQLAlchemy spends in builtins is SQLAlchemy's."""
    own = defaultdict(float)
    for (filename, _, name), (_, _, tottime, _, callers) in stats.stats.items():
        found = package(filename) or package(name)
        if found:
            own[found] += tottime
            continue
        if not callers:
            own["other"] += tottime
        for (caller_file, _, _), caller_stats in callers.items():
            own[package(caller_file) or "other (stdlib, builtins)"] += caller_stats[2]
    return own


def profile_batch(url: str, items: int, top: int) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    # The suppression secret the service's sessions carry (services/contacts/settings.py).
    sessions = sessionmaker(engine, expire_on_commit=False, info={SUPPRESSION_KEY: b"bench"})
    batch = [person(n) for n in range(items)]
    # Warm the caches every batch but the first finds full (reference data, compiled SQL).
    with transaction(sessions) as session:
        batch_upsert(session, [person(items + n) for n in range(20)], "bench")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    with transaction(sessions) as session:
        results = batch_upsert(session, batch, "bench")["results"]
    profiler.disable()
    seconds = time.perf_counter() - started
    engine.dispose()
    assert all(r["status"] == "created" for r in results), results[:3]
    stats = pstats.Stats(profiler)
    own = own_time_by_package(stats)
    total = sum(own.values())
    print(
        f"batch of {items:,} new contacts: {seconds:.2f} s wall, {items / seconds:.0f} "
        f"rows/s ({total:.2f} s profiled)\n"
    )
    print("| package | own s | share |\n|---|---|---|")
    for name, spent in sorted(own.items(), key=lambda kv: -kv[1])[:12]:
        print(f"| {name} | {spent:.3f} | {spent / total:.0%} |")
    print()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main(argv=None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sqlite", action="store_true", help="on SQLite, not PostgreSQL")
    options = parser.parse_args(argv)
    if options.sqlite:
        with tempfile.TemporaryDirectory() as directory:
            profile_batch(f"sqlite:///{directory}/contacts.db", options.items, options.top)
        return 0
    url = fresh_database()
    try:
        profile_batch(url, options.items, options.top)
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
