"""A campaign from draft to finished through the logic, as the service's timers run it:
created against the fakes, started, its audience read page by page, dispatched in
chunks; each member one message at most, whatever crashes and re-runs happen; refusals
counted by reason; the events' counters once per recipient."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from plexus.errors import Conflict, Invalid
from services.campaigns.logic import definitions, dispatch, feedback, recipients, starting
from tests.unit.campaigns.conftest import NOW

ZONE = "UTC"


@pytest.fixture
def make(tx, messaging, segments):
    segments.members["seg"] = [f"c{i:02d}" for i in range(10)]

    def make(**fields):
        body = {
            "name": "Winter sale",
            "channel": "email",
            "template_id": "t-email",
            "segment_id": "seg",
            **fields,
        }
        return definitions.new_campaign(tx, body, messaging, segments)

    return make


def ab_test(template_a: str, template_b: str, wait_hours: float = 1) -> dict:
    return {
        "variants": [
            {"name": "a", "template_id": template_a},
            {"name": "b", "template_id": template_b},
        ],
        "test_fraction": 0.5,
        "metric": "open",
        "wait_hours": wait_hours,
    }


def started(run, tx, campaign, segments, contacts, now=NOW):
    run(starting.act, campaign["id"], "start", now)
    starting.load_audiences(tx, segments, contacts, ZONE)


def dispatched(tx, messaging, now=NOW, chunk=4):
    return dispatch.dispatch_pass(tx, messaging, now, chunk, ZONE)


def read(run, campaign):
    return run(definitions.read_campaign, campaign["id"])


def test_each_member_gets_one_message_and_refusals_are_counted(
    run, tx, make, messaging, segments, contacts
):
    messaging.refusals = {"c03": "unsubscribed", "c04": "unsubscribed", "c07": "blacklisted"}
    campaign = make(category="news")
    started(run, tx, campaign, segments, contacts)
    assert read(run, campaign)["stats"]["audience"] == 10
    tally = dispatched(tx, messaging)
    assert tally == {"queued": 7, "refused.unsubscribed": 2, "refused.blacklisted": 1}
    assert messaging.calls == 3  # chunks of 4
    stored = read(run, campaign)
    assert stored["status"] == "finished"
    assert stored["stats"]["queued"] == 7
    assert stored["stats"]["refused"] == {"blacklisted": 1, "unsubscribed": 2}
    assert sorted(item["contact_id"] for item in messaging.items) == [
        f"c{i:02d}" for i in (0, 1, 2, 5, 6, 8, 9)
    ]
    item = messaging.items[0]
    assert item["origin"] == "campaign" and item["category"] == "news"
    assert item["trigger"] == {"campaign_id": campaign["id"]}
    # Another pass (a restart) sends nothing more.
    assert dispatched(tx, messaging) == {}
    refused = run(recipients.list_recipients, campaign["id"], "refused", 50, None)["data"]
    assert [(r["contact_id"], r["reason"]) for r in refused] == [
        ("c03", "unsubscribed"),
        ("c04", "unsubscribed"),
        ("c07", "blacklisted"),
    ]


def test_a_crash_after_messaging_committed_sends_nothing_twice(
    run, tx, make, messaging, segments, contacts
):
    campaign = make()
    started(run, tx, campaign, segments, contacts)
    messaging.crash_after_commit = True
    with pytest.raises(Exception, match="died"):
        dispatched(tx, messaging)
    first_ids = {answer["message_id"] for answer in messaging.queued.values()}
    dispatched(tx, messaging)
    assert len(messaging.items) == 10
    rows = run(recipients.list_recipients, campaign["id"], None, 50, None)["data"]
    assert {row["status"] for row in rows} == {"queued"}
    assert first_ids <= {row["message_id"] for row in rows}
    assert read(run, campaign)["stats"]["queued"] == 10


def test_a_restarted_audience_read_writes_each_member_once(
    run, tx, make, messaging, segments, contacts
):
    campaign = make()
    run(starting.act, campaign["id"], "start", NOW)
    # Two pages written, then the process died: the next read goes on from the cursor,
    # and a page written again is skipped row by row.
    starting.load_page(tx, campaign["id"], segments, contacts, ZONE)
    starting.load_page(tx, campaign["id"], segments, contacts, ZONE)
    starting.load_audiences(tx, segments, contacts, ZONE)
    assert read(run, campaign)["stats"]["audience"] == 10
    dispatched(tx, messaging)
    assert len(messaging.items) == 10


def test_patch_and_delete_only_a_draft_and_actions_by_status(
    run, tx, make, messaging, segments, contacts
):
    campaign = make()
    changed = definitions.change_campaign(
        tx, campaign["id"], {"name": "New"}, messaging, segments, "alice"
    )
    assert changed["name"] == "New"
    assert (changed["created_by"], changed["updated_by"]) == ("system", "alice")
    started(run, tx, campaign, segments, contacts)
    with pytest.raises(Conflict):
        definitions.change_campaign(tx, campaign["id"], {"name": "x"}, messaging, segments)
    with pytest.raises(Conflict):
        run(definitions.delete_campaign, campaign["id"])
    with pytest.raises(Conflict):
        run(starting.act, campaign["id"], "start", NOW)
    paused = run(starting.act, campaign["id"], "pause", NOW, "bob")
    assert (paused["status"], paused["updated_by"]) == ("paused", "bob")
    assert dispatched(tx, messaging) == {}  # paused: nothing goes
    assert run(starting.act, campaign["id"], "resume", NOW)["status"] == "running"
    assert run(starting.act, campaign["id"], "cancel", NOW)["status"] == "cancelled"
    assert dispatched(tx, messaging) == {}
    assert messaging.items == []


def test_references_are_checked_naming_the_field(make, messaging):
    with pytest.raises(Invalid) as raised:
        make(template_id="t-sms", segment_id="nope")
    assert set(raised.value.errors) == {"template_id", "segment_id"}
    with pytest.raises(Invalid) as raised:
        make(ab=ab_test("t-email", "missing"))
    assert set(raised.value.errors) == {"ab.variants.1.template_id"}


def test_a_future_schedule_waits_then_starts(run, tx, make, messaging, segments, contacts):
    at = NOW + timedelta(hours=2)
    campaign = make(schedule={"at": at.isoformat()})
    assert run(starting.act, campaign["id"], "start", NOW)["status"] == "scheduled"
    starting.load_audiences(tx, segments, contacts, ZONE)
    assert dispatched(tx, messaging) == {}
    later = at + timedelta(seconds=1)
    run(starting.start_scheduled, later)
    starting.load_audiences(tx, segments, contacts, ZONE)
    assert dispatched(tx, messaging, later)["queued"] == 10


def test_local_time_sends_each_member_at_their_own_hour(
    run, tx, make, messaging, segments, contacts
):
    segments.members["seg"] = ["kyiv", "ny"]
    contacts.zones = {"kyiv": "Europe/Kyiv", "ny": "America/New_York"}
    campaign = make(schedule={"local_time": "09:00"})
    started(run, tx, campaign, segments, contacts)  # NOW is 06:00 UTC
    assert dispatched(tx, messaging, NOW + timedelta(hours=1)) == {"queued": 1}  # 09:00 Kyiv
    assert [item["contact_id"] for item in messaging.items] == ["kyiv"]
    assert dispatched(tx, messaging, NOW + timedelta(hours=7)) == {}
    assert dispatched(tx, messaging, NOW + timedelta(hours=8)) == {"queued": 1}  # 09:00 NY
    assert read(run, campaign)["status"] == "finished"


def test_the_throttle_spreads_the_audience_over_minutes(
    run, tx, make, messaging, segments, contacts
):
    campaign = make(throttle_per_minute=4)
    started(run, tx, campaign, segments, contacts)
    assert dispatched(tx, messaging, NOW, chunk=500) == {"queued": 4}
    assert dispatched(tx, messaging, NOW + timedelta(seconds=30), chunk=500) == {}
    assert dispatched(tx, messaging, NOW + timedelta(seconds=61), chunk=500) == {"queued": 4}


def event(campaign_id, contact_id, name, status=None, variant=None, event_id=None):
    payload = {
        "event": name,
        "event_id": event_id or f"{contact_id}-{name}-{status}",
        "contact_id": contact_id,
        "message_id": "m",
        "trigger": {"campaign_id": campaign_id, **({"variant": variant} if variant else {})},
    }
    if status:
        payload["status"] = status
    return payload


def test_ab_test_picks_the_best_rate_and_sends_it_to_the_rest(
    run, tx, make, messaging, segments, contacts
):
    segments.members["seg"] = [f"c{i:02d}" for i in range(20)]
    campaign = make(ab=ab_test("t-email", "t-email-b", wait_hours=4))
    started(run, tx, campaign, segments, contacts)
    assert dispatched(tx, messaging, chunk=500) == {"queued": 10}
    by_variant = {"a": [], "b": []}
    for item in messaging.items:
        assert item["origin"] == "ab_test"
        by_variant[item["trigger"]["variant"]].append(item["contact_id"])
        expected = {"a": "t-email", "b": "t-email-b"}[item["trigger"]["variant"]]
        assert item["template_id"] == expected
    assert len(by_variant["a"]) == len(by_variant["b"]) == 5
    sent = [
        event(campaign["id"], c, "message_sent", variant=v)
        for v, members in by_variant.items()
        for c in members
    ]
    opens = [
        event(campaign["id"], c, "message_status", "open", variant="b") for c in by_variant["b"][:3]
    ]
    opens.append(event(campaign["id"], by_variant["a"][0], "message_status", "open", variant="a"))
    run(feedback.on_message_events, sent + opens + opens, NOW)  # the opens twice
    stats = read(run, campaign)["stats"]
    assert stats["open"] == 4
    assert stats["variants"]["a"] == {
        "queued": 5, "refused": 0, "sent": 5, "delivered": 0, "open": 1, "click": 0,
        "unsubscribed": 0, "bounced": 0, "open_rate": 0.2, "click_rate": 0.0,
    }  # fmt: skip
    assert (stats["variants"]["b"]["open"], stats["variants"]["b"]["open_rate"]) == (3, 0.6)
    assert read(run, campaign)["status"] == "running"  # the rest is held
    assert dispatched(tx, messaging, NOW + timedelta(hours=3), chunk=500) == {}
    later = NOW + timedelta(hours=4, seconds=1)
    assert dispatched(tx, messaging, later, chunk=500) == {"queued": 10}
    stored = read(run, campaign)
    assert stored["winner"] == "b" and stored["status"] == "finished"
    assert {item["template_id"] for item in messaging.items[10:]} == {"t-email-b"}
    # The rest was sent the winner: counted under it.
    assert stored["stats"]["variants"]["b"]["queued"] == 15
    assert stored["stats"]["variants"]["a"]["queued"] == 5


def test_events_count_once_per_recipient_and_erasure_forgets_rows(
    run, tx, make, messaging, segments, contacts
):
    campaign = make()
    started(run, tx, campaign, segments, contacts)
    dispatched(tx, messaging)
    cid = campaign["id"]
    batch = [
        event(cid, "c00", "message_sent"),
        event(cid, "c00", "message_status", "delivered"),
        event(cid, "c00", "message_status", "open", event_id="o1"),
        event(cid, "c00", "message_status", "open", event_id="o2"),
        event(cid, "c00", "message_status", "click"),
        event(cid, "c01", "message_status", "delivered"),  # before its message_sent
        event(cid, "c01", "message_sent"),
        event(cid, "c02", "message_sent"),
        event(cid, "c02", "message_status", "hard_bounce"),
        event(cid, "c03", "message_status", "unsubscribed"),
        event("another", "c04", "message_sent"),
        {**event(cid, "c05", "message_sent"), "trigger": None},
    ]
    run(feedback.on_message_events, batch, NOW)
    run(feedback.on_message_events, batch, NOW)  # redelivered
    stats = read(run, campaign)["stats"]
    assert {k: stats[k] for k in ("sent", "delivered", "open", "click", "bounced")} == {
        "sent": 3,
        "delivered": 2,
        "open": 1,
        "click": 1,
        "bounced": 1,
    }
    assert stats["unsubscribed"] == 1
    listed = run(recipients.list_recipients, cid, "delivered", 50, None)["data"]
    assert [row["contact_id"] for row in listed] == ["c00", "c01"]
    run(feedback.forget_contacts, ["c00"])
    rows = run(recipients.list_recipients, cid, None, 50, None)["data"]
    assert "c00" not in {row["contact_id"] for row in rows}


def test_a_batch_messaging_finds_invalid_pauses_the_campaign(
    run, tx, make, messaging, segments, contacts
):
    campaign = make()
    started(run, tx, campaign, segments, contacts)

    def refuse(items, actor):
        raise Invalid("no such template", {"items.0.template_id": ["no such template"]})

    messaging.queue_batch = refuse
    assert dispatched(tx, messaging) == {}
    assert read(run, campaign)["status"] == "paused"


def test_chunks_in_flight_at_once_still_send_each_member_once(
    run, tx, make, messaging, segments, contacts, database_url
):
    segments.members["seg"] = [f"c{i:02d}" for i in range(40)]
    busy, most = [0], [0]
    answer = messaging.queue_batch

    def slow_queue_batch(items, actor):
        busy[0] += 1
        most[0] = max(most[0], busy[0])
        time.sleep(0.05)  # messaging at work: the other lanes claim meanwhile
        try:
            return answer(items, actor)
        finally:
            busy[0] -= 1

    messaging.queue_batch = slow_queue_batch
    messaging.refusals = {"c05": "unsubscribed"}
    campaign = make()
    started(run, tx, campaign, segments, contacts)
    tally = dispatch.dispatch_pass(tx, messaging, NOW, 4, ZONE, in_flight=3)
    assert tally == {"queued": 39, "refused.unsubscribed": 1}
    assert sorted(i["contact_id"] for i in messaging.items) == [
        f"c{i:02d}" for i in range(40) if i != 5
    ]
    stored = read(run, campaign)
    assert stored["status"] == "finished"
    assert stored["stats"]["queued"] == 39
    # PostgreSQL's claims skip each other's rows; SQLite's lock nothing: one at a time.
    assert most[0] == (3 if database_url.startswith("postgresql") else 1)
