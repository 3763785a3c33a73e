"""The projection fed by events: each applied once, an event about a contact not yet
projected fetches the whole contact, a late contact_created is older than that, and
nothing comes back after erasure."""

import threading

import pytest
from sqlalchemy import func, select

from plexus.contract import events
from plexus.db import transaction
from services.segments.logic import definitions, projection
from services.segments.models import ActivityCount, Profile
from tests.unit.segments.conftest import (
    CLOCK,
    activity,
    created,
    event,
    one_activity_event,
    one_contact_event,
)

UK = {"field": "language", "op": "eq", "value": "uk"}


def language(run, contact_id):
    return run(lambda s: s.scalar(select(Profile.language).where(Profile.contact_id == contact_id)))


def test_a_redelivered_event_counts_once(run, contacts):
    contact = contacts.make(email="a@example.com")
    run(one_contact_event, created(contact), contacts.fetch, CLOCK)
    opened = activity(contact["id"], "email", "open")
    for _ in range(3):
        run(one_activity_event, opened, CLOCK)
    assert run(lambda s: s.scalar(select(func.sum(ActivityCount.count)))) == 1


def test_an_update_before_the_creation_fetches_the_contact(run, contacts, outbox):
    segment = run(definitions.create_segment, {"name": "uk", "rule": UK}, "tester", CLOCK)
    contact = contacts.make(email="b@example.com", language="en")
    contact["language"] = "uk"  # contacts holds the update already
    update = event(events.CONTACT_UPDATED, contact["id"], changed={"language": "uk"})
    assert run(one_contact_event, update, contacts.fetch, CLOCK) == 1
    assert contacts.asked == 1
    # The creation, late, says "en": older than what was fetched, so ignored.
    stale = created({**contact, "language": "en"})
    run(one_contact_event, stale, contacts.fetch, CLOCK)
    assert language(run, contact["id"]) == "uk"
    assert outbox() == [("uk", contact["id"], "added")]
    assert run(definitions.read_segment, segment["id"])["member_count"] == 1


def test_nothing_comes_back_after_erasure(run, contacts, outbox):
    run(definitions.create_segment, {"name": "uk", "rule": UK}, "tester", CLOCK)
    contact = contacts.make(language="uk")
    other = contacts.make(language="uk")
    # One batch: one membership event names both, not yet published at the erasure.
    run(projection.on_contact_events, [created(contact), created(other)], contacts.fetch, CLOCK)
    assert sorted(outbox()) == sorted(
        [("uk", contact["id"], "added"), ("uk", other["id"], "added")]
    )
    run(one_contact_event, event(events.CONTACT_DELETED, contact["id"]), contacts.fetch, CLOCK)
    assert outbox() == [("uk", other["id"], "added")]
    late = event(events.CONTACT_UPDATED, contact["id"], changed={"language": "uk"})
    assert run(one_contact_event, late, contacts.fetch, CLOCK) == 0
    assert run(one_activity_event, activity(contact["id"]), CLOCK) == 0
    assert language(run, contact["id"]) is None
    assert contacts.asked == 0


def test_activity_before_its_contact_waits_for_it(run, contacts, outbox):
    run(definitions.create_segment, {"name": "active", "rule": {"activity": {}}}, "tester", CLOCK)
    contact = contacts.make(email="d@example.com")
    assert run(one_activity_event, activity(contact["id"]), CLOCK) == 0
    assert contacts.asked == 0  # not asked: its contact_created is on the way
    run(one_contact_event, created(contact), contacts.fetch, CLOCK)
    assert outbox() == [("active", contact["id"], "added")]


def test_an_update_about_an_unknown_contact_is_dropped(run, contacts):
    late = event(events.CONTACT_UPDATED, "nobody", changed={"language": "uk"})
    assert run(one_contact_event, late, contacts.fetch, CLOCK) == 0
    assert contacts.asked == 1


@pytest.mark.postgres
def test_a_segment_made_while_an_event_is_applied_still_takes_its_contact(
    sessions, contacts, database_url
):
    """The event's transaction has projected the contact but not committed when the
    segment is created: the creation waits for it and counts the contact (else each
    transaction misses the other and the member is lost for good)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's one writer serializes the two already")
    contact = contacts.make(email="race@example.com", language="uk")
    applying = sessions()
    run_event = projection.on_contact_events(applying, [created(contact)], contacts.fetch, CLOCK)
    assert run_event == 0  # no segment yet
    made: dict = {}

    def create():
        with transaction(sessions) as session:
            made.update(definitions.create_segment(session, {"name": "uk", "rule": UK}, "t", CLOCK))

    creating = threading.Thread(target=create)
    creating.start()
    creating.join(0.5)
    assert creating.is_alive(), "the creation did not wait for the event's transaction"
    applying.commit()
    applying.close()
    creating.join(10)
    assert made["member_count"] == 1
