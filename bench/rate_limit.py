"""What a sender's rate limit shared by all its processes adds to a send, against the
process-local bucket it replaced.

    .venv/bin/python -m bench.rate_limit --repeat 2000

On SQLite and PostgreSQL (a throw-away database, migrated): messaging's claim of one
queued email as a send within the limit makes it, with no limit and with the sender's
bucket (its UPDATE ... RETURNING in the claim's transaction; a rate so high it never
makes anyone wait), p50 and p99 in ms; and the process-local bucket's arithmetic that
each sender process did before, the baseline. The contacts look-up inside the claim is
answered in-process, so the difference is the bucket alone. A send over the limit makes
a second claim after its wait (one more RPC): `bench.senders --rate-limit` measures that
end to end."""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bench.harness import arguments, drop_database, fresh_database, machine, report, timed
from plexus.db import make_engine, transaction
from plexus.migrations import migrate_service
from services.messaging.logic.claims import claim
from services.messaging.logic.messages import queue_message
from services.messaging.logic.rendering import Limits
from services.messaging.settings import Settings

SETTINGS = Settings(
    tracking_base_url="https://t.example", tracking_secret="bench-secret", limits=Limits()
)
CONTACT = {
    "id": "01benchcontact000000000000",
    "email": "ann@bench.example",
    "status": "active",
    "subscriptions": {"email": {"status": "subscribed"}},
    "blacklists": {},
    "categories": {},
}
# Never binding: the bucket is written on every claim, and no claim is told to wait.
UNBINDING = {"bucket": "email", "per_second": 1_000_000.0}


class Contacts:
    """The contacts port, answered in-process: the claim's RPC is not what is measured."""

    def get_contact(self, _contact_id: str) -> dict:
        return CONTACT


class LocalBucket:
    """The process-local token bucket of before (services/messaging/senders/ratelimit.py
    until the shared one), without its sleep: the baseline."""

    def __init__(self, per_second: float):
        self.interval, self.burst = 1.0 / per_second, 1.0
        self.next_free = 0.0

    def acquire(self) -> float:
        now = time.monotonic()
        slot = max(self.next_free, now - self.burst + self.interval)
        self.next_free = slot + self.interval
        return max(0.0, slot - now)


def measure(database_url: str, repeat: int) -> dict:
    migrate_service({"DATABASE_URLS": {"messaging": database_url}}, "messaging")
    engine = make_engine(database_url)
    unit_of_work = functools.partial(transaction, sessionmaker(engine, expire_on_commit=False))
    try:
        with unit_of_work() as session:
            message = queue_message(
                session,
                contact_id=CONTACT["id"],
                channel="email",
                origin="api",
                category=None,
                template_id=None,
                resend_of=None,
                content={"subject": "Bench", "text": "Hello"},
                actor="bench",
            )
        # A claim leaves the message queued: the same one is claimed again and again.
        assert claim(unit_of_work, Contacts(), SETTINGS, message["id"])["send"]

        def plain():
            return claim(unit_of_work, Contacts(), SETTINGS, message["id"])

        def limited():
            return claim(unit_of_work, Contacts(), SETTINGS, message["id"], UNBINDING)

        return {"no limit": timed(plain, repeat), "shared bucket": timed(limited, repeat)}
    finally:
        engine.dispose()


def run(repeat: int) -> dict:
    results = {"local bucket": timed(LocalBucket(1_000_000.0).acquire, repeat * 10)}
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = measure(f"sqlite:///{Path(scratch) / 'messaging.db'}", repeat)
    url = fresh_database()
    try:
        postgresql = measure(url, repeat)
    finally:
        drop_database(url)
    return {
        "repeat": repeat,
        "local": results["local bucket"],
        "sqlite": sqlite,
        "postgresql": postgresql,
    }


def table(figures: dict) -> str:
    local = figures["local"]
    lines = [
        f"Sender rate limit, {figures['repeat']:,} claims a case ({machine()})",
        "",
        "| database | claim, no limit p50 / p99 ms | claim with the shared bucket p50 / p99 ms "
        "| added p50 ms |",
        "|---|---|---|---|",
    ]
    for database in ("sqlite", "postgresql"):
        plain, shared = figures[database]["no limit"], figures[database]["shared bucket"]
        lines.append(
            f"| {database} | {plain['p50']:.3f} / {plain['p99']:.3f} "
            f"| {shared['p50']:.3f} / {shared['p99']:.3f} "
            f"| {shared['p50'] - plain['p50']:.3f} |"
        )
    lines += [
        "",
        f"The process-local bucket it replaced: {local['p50'] * 1000:.2f} µs a send (p50), "
        "in the sender's process.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    figures = run(args.repeat)
    report(
        "Sender rate limit",
        table(figures),
        to_results=args.record,
        as_json=figures if args.json else None,
    )


if __name__ == "__main__":
    main()
