"""THE property of the segments service: whatever the rules and whatever the changes,
in whatever order they arrive, the membership kept up event by event (only the segments
whose rules read what changed, for that contact) equals a full re-evaluation of every
rule over the projection, and each segment's counter equals its members."""

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from plexus.contract import events
from plexus.db import transaction
from plexus.timeutil import rfc3339
from services.segments.logic import definitions, projection
from services.segments.logic.membership import matching
from services.segments.models import Base, Membership, SegmentDef
from tests.unit.database import runner, sqlite_sessions
from tests.unit.segments.conftest import CLOCK, NOW, FakeContacts, activity, created, event

CONTACTS = 4
LANGUAGES = ["uk", "en", None]
CHANNELS = ["email", "sms"]

leaves = st.one_of(
    st.builds(
        lambda v: {"field": "language", "op": "eq", "value": v}, st.sampled_from(["uk", "en"])
    ),
    st.builds(lambda v: {"field": "contact_score", "op": "gte", "value": v}, st.integers(0, 3)),
    st.builds(
        lambda v: {"field": "variables.plan", "op": "eq", "value": v},
        st.sampled_from(["pro", "free"]),
    ),
    st.just({"field": "variables.plan", "op": "exists"}),
    st.just({"field": "status", "op": "eq", "value": "active"}),
    st.builds(lambda c: {"subscribed": c}, st.sampled_from(CHANNELS)),
    st.builds(lambda c: {"blacklisted": c}, st.sampled_from(["email", "phone"])),
    st.builds(lambda c: {"category": c}, st.sampled_from(["news", "offers"])),
    st.builds(
        lambda t, n, d: {
            "activity": {
                "channel": "email",
                "type": t,
                "min_count": n,
                **({"within_days": d} if d else {}),
            }
        },
        st.sampled_from(["open", "click"]),
        st.integers(1, 2),
        st.sampled_from([None, 3]),
    ),
    st.builds(lambda n: {"activity": {"name": n}}, st.sampled_from(["paid", "viewed"])),
    st.builds(
        lambda d: {"field": "updated_at", "op": "within_last_days", "value": d},
        st.sampled_from([0, 1]),
    ),
)
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=5,
)

who = st.integers(0, CONTACTS - 1)
changes = st.one_of(
    st.tuples(st.just("create"), who),
    st.tuples(st.just("language"), who, st.sampled_from(LANGUAGES)),
    st.tuples(st.just("score"), who, st.integers(0, 4)),
    st.tuples(st.just("plan"), who, st.sampled_from(["pro", "free", None])),
    st.tuples(st.just("categories"), who, st.sampled_from(["news", "offers"]), st.booleans()),
    st.tuples(st.just("status"), who, st.booleans()),
    st.tuples(st.just("subscription"), who, st.sampled_from(CHANNELS), st.booleans()),
    st.tuples(st.just("blacklist"), who, st.sampled_from(["email", "phone"]), st.booleans()),
    st.tuples(
        st.just("activity"), who, st.sampled_from(["open", "click"]), st.sampled_from([0, 5])
    ),
    st.tuples(st.just("event"), who, st.sampled_from(["paid", "viewed"])),
    st.tuples(st.just("delete"), who),
    st.tuples(st.just("segment"), st.integers(0, 20)),  # a segment made midway
)


class World:
    """The contacts as the contacts service holds them, and the events they send."""

    def __init__(self):
        self.contacts = FakeContacts()
        self.ids = [f"01contact{n:017d}" for n in range(CONTACTS)]

    def change(self, step) -> list[dict]:
        kind, n, *rest = step
        contact_id = self.ids[n] if kind != "segment" else None
        held = self.contacts.contacts.get(contact_id)
        if kind == "create":
            if held or contact_id is None:
                return []
            return [created(self.contacts.make(id=contact_id, updated_at=rfc3339(NOW)))]
        if held is None:
            return []
        if kind == "delete":
            del self.contacts.contacts[contact_id]
            self.ids[n] = contact_id[:-3] + f"{int(contact_id[-3:]) + 1:03d}"  # a new one
            return [event(events.CONTACT_DELETED, contact_id)]
        if kind in ("language", "score", "plan", "categories"):
            if kind == "language":
                field, value = "language", rest[0]
            elif kind == "score":
                field, value = "contact_score", rest[0]
            elif kind == "plan":
                field, value = "variables", {"plan": rest[0]} if rest[0] else {}
            else:
                field, value = "categories", {**held["categories"], rest[0]: rest[1]}
            held[field] = value
            return [event(events.CONTACT_UPDATED, contact_id, changed={field: value})]
        if kind == "status":
            held["status"] = "active" if rest[0] else "inactive"
            return [
                event(
                    events.CONTACT_ACTIVATED if rest[0] else events.CONTACT_DEACTIVATED, contact_id
                )
            ]
        if kind == "subscription":
            status = "subscribed" if rest[1] else "unsubscribed"
            held["subscriptions"][rest[0]] = {"status": status}
            return [event(events.SUBSCRIPTION_CHANGED, contact_id, channel=rest[0], status=status)]
        if kind == "blacklist":
            held["blacklists"][rest[0]] = {"reason": "x"} if rest[1] else None
            return [event(events.BLACKLIST_CHANGED, contact_id, list=rest[0], blacklisted=rest[1])]
        if kind == "activity":
            return [
                activity(
                    contact_id, "email", rest[0], occurred_at=rfc3339(NOW - timedelta(days=rest[1]))
                )
            ]
        return [activity(contact_id, name=rest[0])]


def _apply(run, world: World, payloads: list[dict]) -> None:
    """Deliver as the queues do: each source's events in batches of their own."""
    batches: list[list[dict]] = []
    for payload in payloads:
        if batches and _source(batches[-1][0]) == _source(payload):
            batches[-1].append(payload)
        else:
            batches.append([payload])
    for batch in batches:
        if _source(batch[0]) == events.ACTIVITY:
            run(projection.on_activity_events, batch, CLOCK)
        else:
            run(projection.on_contact_events, batch, world.contacts.fetch, CLOCK)


def _source(payload: dict) -> str:
    return events.ACTIVITY if payload["event"] == events.ACTIVITY_RECORDED else events.CONTACTS


def _check(sessions) -> None:
    with transaction(sessions) as session:
        for segment in session.scalars(select(SegmentDef)):
            kept = set(
                session.scalars(
                    select(Membership.contact_id).where(Membership.segment_id == segment.id)
                )
            )
            full = set(session.scalars(matching(segment.rule, CLOCK)))
            assert kept == full, (segment.rule, kept ^ full)
            assert segment.member_count == len(kept)
            assert session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.segment_id == segment.id)
            ) == len(kept)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    first_rules=st.lists(rules, min_size=1, max_size=3),
    later_rules=st.lists(rules, min_size=0, max_size=21),
    steps=st.lists(changes, min_size=1, max_size=25),
    delays=st.lists(st.integers(0, 3), max_size=25),
    duplicate=st.booleans(),
)
def test_incremental_membership_equals_a_full_evaluation(
    first_rules, later_rules, steps, delays, duplicate
):
    with tempfile.TemporaryDirectory() as folder:
        sessions = sqlite_sessions(Path(folder) / "segments.db", Base)
        run = runner(sessions)
        world = World()
        for n, rule in enumerate(first_rules):
            run(definitions.create_segment, {"name": f"s{n}", "rule": rule}, "tester", CLOCK)
        # Events go out in order, but each may be held back a few places (out-of-order
        # delivery), and with `duplicate` every one arrives twice (at-least-once).
        pending: list[tuple[int, dict]] = []
        for index, step in enumerate(steps):
            if step[0] == "segment":
                if step[1] < len(later_rules):
                    run(
                        definitions.create_segment,
                        {"name": f"later{index}", "rule": later_rules[step[1]]},
                        "tester",
                        CLOCK,
                    )
                continue
            for payload in world.change(step):
                delay = delays[index] if index < len(delays) else 0
                pending.append((index + delay, payload))
            due = [p for p in pending if p[0] <= index]
            pending = [p for p in pending if p[0] > index]
            # Several due together arrive as batches; a duplicate may share the batch.
            batch = [payload for _, payload in due]
            _apply(run, world, batch + batch if duplicate else batch)
        _apply(run, world, [payload for _, payload in pending])
        _check(sessions)
        sessions.kw["bind"].dispose()
