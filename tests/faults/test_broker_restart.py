"""RabbitMQ stopped and started again under load: while it is away the gateway answers
503 (never 500, never a hang); every service reconnects by itself (the same processes,
every queue consumed again); every write the gateway accepted before, during or after is
stored, and its event reached activity once.

The broker is a node of the test's own (tests/faults/rabbit_node.py): stopping the
machine's shared one would break every other test running beside this one."""

import collections
import json
import sqlite3
import time
from pathlib import Path

import requests

from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.faults.write_load import ACCEPTED, WriteLoad
from tests.polling import wait_for

DEADLINE = 10  # PLEXUS_RPC_TIMEOUT: the longest a request may wait for a service


def child_pids(parent: int) -> set[int]:
    """The processes whose parent is `parent` (from /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == parent:
            children.add(int(stat.parent.name))
    return children


def stored_names(database) -> dict[str, str]:
    with sqlite3.connect(database, timeout=30) as connection:
        return dict(connection.execute("SELECT id, first_name FROM contacts"))


def feed_rows(database) -> tuple[collections.Counter, int, int]:
    """(rows by (contact, type), rows, distinct source events) in activity's feed."""
    with sqlite3.connect(database, timeout=30) as connection:
        counts = collections.Counter(
            {
                (contact, kind): n
                for contact, kind, n in connection.execute(
                    "SELECT contact_id, type, count(*) FROM activity_items "
                    "WHERE channel = 'contact' GROUP BY contact_id, type"
                )
            }
        )
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT source_event_id) FROM activity_items"
        ).fetchone()
    return counts, total, distinct


def feed_holds(database, load: WriteLoad):
    """Each accepted create has its 'added' row, each accepted change its 'updated' row."""
    counts, total, distinct = feed_rows(database)
    creates = [w.contact_id for w in load.accepted() if w.kind == "create"]
    changes = collections.Counter(w.contact_id for w in load.accepted() if w.kind == "update")
    complete = all(counts[(c, "added")] >= 1 for c in creates) and all(
        counts[(c, "updated")] >= n for c, n in changes.items()
    )
    return complete and (counts, total, distinct)


def serving(suite) -> bool:
    """Fails at once, saying which, when a service died (plexus run then stops them all)."""
    if suite.process.poll() is None:
        return True
    said = []
    for line in suite.log.read_text().splitlines():
        if line.startswith("plexus:"):
            said.append(line)
        elif '"critical"' in line:
            record = json.loads(line)
            frames = [f for f in record.get("exc_info", "").splitlines() if "/plexus/" in f]
            said.append(
                f"{record.get('service')}: {record['message']}, "
                f"{(frames or [''])[-1].strip()}: "
                f"{record.get('exc_info', '').splitlines()[-1:]}"
            )
    raise AssertionError("a service died:\n" + "\n".join(dict.fromkeys(said)))


def unconsumed(node) -> list[str]:
    """Queues nobody consumes (dead-letter queues are read by people, not services)."""
    return [
        queue
        for queue, consumers in node.consumers().items()
        if consumers == 0 and not queue.endswith(".dead")
    ]


def test_broker_restart_under_load_loses_no_accepted_write(rabbit_node, tmp_path):
    env = suite_env(rabbit_node.amqp_uri, tmp_path, None)
    suite = start_suite(env, tmp_path / "suite.log")
    try:
        services = child_pids(suite.process.pid)
        load = WriteLoad(suite.http(), suite.url).start()
        wait_for(lambda: len(load.accepted()) >= 30, 30, "writes before the outage")

        stopping = time.monotonic()
        rabbit_node.stop_app()
        gone = time.monotonic()
        wait_for(
            lambda: serving(suite) and len(load.refused(gone)) >= 3,
            45,
            "503s while the broker is away",
        )
        starting = time.monotonic()
        rabbit_node.start_app()
        back = time.monotonic()
        wait_for(
            lambda: serving(suite) and len(load.accepted(back)) >= 20, 60, "writes accepted again"
        )
        load.stop()

        phases = {
            "before": load.between(0, stopping),
            "stopping": load.between(stopping, gone),
            "away": load.between(gone, starting),
            "back": load.between(starting, float("inf")),
        }
        print(
            "\n"
            + "; ".join(
                f"{phase}: {dict(collections.Counter(w.status for w in writes))}"
                for phase, writes in phases.items()
            ),
            f"slowest answer {max(w.seconds for w in load.writes):.1f} s, broker away "
            f"{starting - gone:.1f} s, accepted again {load.accepted(back)[0].started - back:.1f}"
            " s after it came back",
        )
        statuses = {w.status for w in load.writes}
        assert statuses <= {*ACCEPTED, 503}, statuses  # no 500, no request left unanswered
        assert max(w.seconds for w in load.writes) < DEADLINE + 2
        assert all(w.status in ACCEPTED for w in phases["before"])
        # Answered while it was away: 503. (A request that came in then may also wait on
        # its connection attempt and be served once the broker is back.)
        assert all(w.status == 503 for w in phases["away"] if w.started + w.seconds < starting)
        assert all(w.status in ACCEPTED for w in phases["back"][-20:])

        # The same processes serve again: nothing was restarted to recover.
        assert suite.process.poll() is None
        assert child_pids(suite.process.pid) == services
        assert requests.get(suite.url + "/ready", timeout=15).status_code == 200
        wait_for(lambda: not unconsumed(rabbit_node), 30, "every queue consumed again")

        # Every accepted write is stored: a contact holds the name its last accepted
        # change set, or one of a later refused change the service carried out anyway
        # (its answer was lost with the broker).
        names = stored_names(tmp_path / "contacts.db")
        last = {}
        for write in load.writes:
            if write.contact_id and (write.status in ACCEPTED or write.contact_id in last):
                last.setdefault(write.contact_id, set())
                if write.status in ACCEPTED:
                    last[write.contact_id] = {write.value}
                else:
                    last[write.contact_id].add(write.value)
        assert {c: names.get(c) for c in last if names.get(c) not in last[c]} == {}

        # ... and its event reached activity once.
        counts, total, distinct = wait_for(
            lambda: feed_holds(tmp_path / "activity.db", load),
            45,
            "every accepted write in the feed",
        )
        assert total == distinct  # no event stored twice
        attempted = collections.Counter(w.contact_id for w in load.writes if w.kind == "update")
        assert all(counts[(c, "added")] == 1 for c in last)
        assert all(counts[(c, "updated")] <= attempted[c] for c in last)
        updates = sum(n for (_, kind), n in counts.items() if kind == "updated")
        print(
            f"accepted {len(load.accepted())}, refused (503) {len(load.refused())}; "
            f"stored contacts {len(last)}, feed rows {total} (distinct events {distinct}), "
            f"'updated' rows {updates} for "
            f"{sum(w.kind == 'update' for w in load.accepted())} accepted changes"
        )
    finally:
        stop_suite(suite)
    assert suite.process.returncode == 0, suite.log.read_text()[-4000:]
