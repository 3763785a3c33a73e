"""The feed on PostgreSQL: monthly partitions, idempotency across them, erasure, and the
plan of the first page: an index, not a scan, with 200,000 rows loaded."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bench.activity_feed import BUSY_CONTACT, FILTER, explain, load
from plexus.contract import events
from plexus.db import transaction
from plexus.errors import NotFound
from plexus.timeutil import utcnow
from services.activity.logic.bus_events import on_contact_events
from services.activity.logic.feed import feed, feed_query
from services.activity.logic.item_detail import get_item
from services.activity.logic.partitions import ensure_coming_months, ensure_partitions
from services.activity.logic.recording import record
from services.activity.models import ActivityItem
from tests.unit.activity.conftest import contact_event

pytestmark = pytest.mark.postgres

CONTACT = "01jdx00000000000000000000a"


def on_contact_event(session, payload):
    """One event: a batch of one."""
    return on_contact_events(session, [payload])


@pytest.fixture
def database_url(postgres_url):
    return postgres_url


def partition_of(run, item_id: str) -> str:
    return run(
        lambda s: s.scalar(
            text("SELECT tableoid::regclass::text FROM activity_items WHERE id = :id"),
            {"id": item_id},
        )
    )


def test_rows_land_in_their_month_and_late_months_take_theirs_from_the_default(run):
    now = utcnow()
    recent = run(record, contact_id=CONTACT, channel="contact", type="added", occurred_at=now)
    old_time = datetime(2024, 3, 15, 12, tzinfo=UTC)
    old = run(record, contact_id=CONTACT, channel="contact", type="updated", occurred_at=old_time)
    assert partition_of(run, recent.id) == f"activity_items_p{now:%Y%m}"
    assert partition_of(run, old.id) == "activity_items_default"

    assert run(ensure_partitions, date(2024, 3, 1), date(2024, 4, 30)) == 2
    assert partition_of(run, old.id) == "activity_items_p202403"
    assert run(ensure_partitions, date(2024, 3, 1), date(2024, 4, 30)) == 0
    assert run(ensure_coming_months, now.date()) == 0  # the migration made them
    assert [i["id"] for i in run(feed, CONTACT)["data"]] == [recent.id, old.id]


def test_the_same_event_twice_is_one_row(run):
    event = contact_event(events.CONTACT_CREATED, CONTACT, contact={})
    run(on_contact_event, event)
    run(on_contact_event, dict(event))
    assert len(run(feed, CONTACT)["data"]) == 1


def test_erasure_on_postgres(run):
    run(on_contact_event, contact_event(events.CONTACT_CREATED, CONTACT, contact={}))
    run(on_contact_event, contact_event(events.CONTACT_DELETED, CONTACT))
    assert run(lambda s: s.scalar(select(func.count()).select_from(ActivityItem))) == 0


def scanned_tables(plan: str) -> set[str]:
    return set(re.findall(r"Seq Scan on (\w+)", plan))


@pytest.fixture
def loaded(sessions):
    load(sessions, 200_000, say=lambda line: None)
    return sessions


@pytest.mark.parametrize(
    "filters",
    [
        {},
        FILTER,
        {**FILTER, "since": "30d"},
        {"channel": ("sms", "email"), "origin": ("campaign",)},
    ],
)
def test_the_first_page_reads_an_index_not_the_table(loaded, filters):
    if filters.get("since"):
        filters = {**filters, "since": utcnow() - timedelta(days=30)}
    with transaction(loaded) as session:
        plan = explain(session, feed_query(BUSY_CONTACT, limit=51, **filters))
        filled = {
            name
            for name in scanned_tables(plan)
            if session.scalar(text(f"SELECT count(*) FROM {name}"))
        }
    print(plan)
    assert "Index" in plan
    # Empty partitions (months to come, the default) cost nothing to scan.
    assert not filled, plan


@pytest.mark.parametrize("key", ["a\x00b", "x" * 300, ""])
def test_odd_ids_are_not_found_not_errors(run, key):
    with pytest.raises(NotFound):
        run(feed, key)
    with pytest.raises(NotFound):
        run(get_item, key, None)
