"""The service's own copy of what rules read, fed by contacts' and activity's events
(plexus.contract.events) in batches (plexus.event_consumer): each event applied once
(event_id), then the contacts the batch changed re-checked together, one query per
segment that reads what changed (membership.recheck_contacts).

Events may arrive out of order: a change about a contact not yet projected makes the
service ask contacts for the whole contact (`fetch`, an RPC), which already holds the
change; a contact_created arriving after that is older than what is held and ignored.
Activity about a contact not yet projected is counted and waits for its contact_created.
Nothing is projected again for a contact erased."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, exc, select, tuple_, update
from sqlalchemy.orm import Session

from plexus import outbox
from plexus.bulk import add_counts, insert_new
from plexus.contract import events
from plexus.contract.activity import parse_rfc3339
from plexus.seen_events import first_seen
from plexus.timeutil import utcnow
from services.segments.logic.compiler import ACTIVITY, Clock
from services.segments.logic.membership import (
    EVERYTHING,
    forget_contact,
    hold_definitions,
    recheck_contacts,
)
from services.segments.models import (
    ActivityCount,
    ErasedContact,
    Flag,
    Outbox,
    Profile,
    SeenEvent,
    Variable,
)

# fetch(contact_id) -> the contact as contacts' get_contact gives it, or None if unknown.
Fetch = Callable[[str], "dict | None"]

PLAIN_FIELDS = (
    "user_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "gender",
    "language",
    "timezone",
    "source",
    "avatar_url",
    "contact_score",
    "status",
)
ADDRESS_PARTS = ("country", "region", "city", "street", "postcode")
SUBSCRIBED, BLACKLISTED, CATEGORY = "subscribed", "blacklisted", "category"


def _moment(text):
    return parse_rfc3339(text) if text else None


def field_values(field: str, value) -> dict:
    """Profile columns for one contact field as the contacts resource shows it."""
    if field in PLAIN_FIELDS:
        return {field: value}
    if field == "birthday":
        day = date.fromisoformat(value) if value else None
        return {"birthday": day, "birthday_md": day.strftime("%m-%d") if day else None}
    if field == "address":
        return {part: (value or {}).get(part) for part in ADDRESS_PARTS}
    if field in ("created_at", "updated_at"):
        return {field: _moment(value)}
    return {}


def _flags(contact: dict) -> list[tuple[str, str]]:
    found = [
        (SUBSCRIBED, channel)
        for channel, state in (contact.get("subscriptions") or {}).items()
        if (state or {}).get("status") == "subscribed"
    ]
    found += [
        (BLACKLISTED, name) for name, entry in (contact.get("blacklists") or {}).items() if entry
    ]
    found += [(CATEGORY, name) for name, on in (contact.get("categories") or {}).items() if on]
    return found


def variable_row(contact_id: str, name: str, value) -> dict:
    if isinstance(value, bool):
        text, number = ("true" if value else "false"), None
    elif isinstance(value, int | float):
        text, number = repr(value), float(value)
    else:
        text, number = str(value), None
    return {"contact_id": contact_id, "name": name, "text_value": text, "number_value": number}


def _set_flags(session: Session, contact_id: str, kind: str, keys) -> None:
    session.execute(delete(Flag).where(Flag.contact_id == contact_id, Flag.kind == kind))
    session.add_all(Flag(contact_id=contact_id, kind=kind, key=key) for key in keys)


def _set_variables(session: Session, contact_id: str, values: dict | None) -> None:
    session.execute(delete(Variable).where(Variable.contact_id == contact_id))
    session.add_all(
        Variable(**variable_row(contact_id, name, value))
        for name, value in (values or {}).items()
        if value is not None
    )


def store_contact(session: Session, contact: dict, replace: bool = True) -> None:
    """The whole contact, replacing what was held (unless `replace` is false: then a
    profile another worker made meanwhile is newer, and kept)."""
    contact_id = contact["id"]
    values = {}
    for field in (*PLAIN_FIELDS, "birthday", "address", "created_at", "updated_at"):
        values.update(field_values(field, contact.get(field)))
    profile = session.get(Profile, contact_id)
    if profile is None:
        try:
            # Two workers may project one contact at once (an update fetched it while
            # its contact_created arrived): the key settles it, and the loser updates.
            with session.begin_nested():
                session.add(Profile(contact_id=contact_id, **values))
            profile = None
        except exc.IntegrityError:
            if not replace:
                return
            profile = _locked_profile(session, contact_id)
    if profile is not None:
        for name, value in values.items():
            setattr(profile, name, value)
    session.execute(delete(Flag).where(Flag.contact_id == contact_id))
    session.add_all(
        Flag(contact_id=contact_id, kind=kind, key=key) for kind, key in _flags(contact)
    )
    _set_variables(session, contact_id, contact.get("variables"))
    session.flush()


def erase(session: Session, contact_id: str) -> None:
    forget_contact(session, contact_id)
    # Membership changes of it not published yet: nothing may be said of it any more.
    outbox.forget_contact(session, Outbox, contact_id)
    for model in (Profile, Flag, Variable, ActivityCount):
        session.execute(delete(model).where(model.contact_id == contact_id))
    if session.get(ErasedContact, contact_id) is None:
        session.add(ErasedContact(contact_id=contact_id))


def _unseen(session: Session, payloads: list[dict]) -> dict[str, dict]:
    """The payloads whose event was not applied before, by event_id in their order (a
    redelivery inside the batch counts once). Read only: see _mark_seen."""
    unique = {p["event_id"]: p for p in payloads}
    seen = (
        set(session.scalars(select(SeenEvent.event_id).where(SeenEvent.event_id.in_(list(unique)))))
        if unique
        else set()
    )
    return {event_id: p for event_id, p in unique.items() if event_id not in seen}


def _mark_seen(session: Session, unseen: dict[str, dict]) -> list[dict]:
    """Mark the events seen (one multi-row INSERT); those this transaction marked, in
    their order: another process's transaction may have taken some meanwhile."""
    if not unseen:
        return []
    new = first_seen(session, SeenEvent, list(unseen), utcnow())
    return [p for event_id, p in unseen.items() if event_id in new]


def first_times(session: Session, payloads: list[dict]) -> list[dict]:
    """The payloads whose event was not applied before, in their order, marked seen."""
    return _mark_seen(session, _unseen(session, payloads))


def _erased_among(session: Session, contact_ids) -> set[str]:
    ids = sorted(set(contact_ids))
    return (
        set(
            session.scalars(
                select(ErasedContact.contact_id).where(ErasedContact.contact_id.in_(ids))
            )
        )
        if ids
        else set()
    )


def _lock_profiles(session: Session, contact_ids) -> set[str]:
    """The held profiles among `contact_ids`, locked for this transaction in id order
    (PostgreSQL; SQLite writes one at a time anyway): two transactions re-checking one
    contact on two snapshots could otherwise undo each other's answer."""
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Profile.contact_id)
            .where(Profile.contact_id.in_(ids))
            .order_by(Profile.contact_id)
            .with_for_update()
        )
    )


def _locked_profile(session: Session, contact_id: str) -> Profile | None:
    return session.scalar(select(Profile).where(Profile.contact_id == contact_id).with_for_update())


def _apply_contact_change(session: Session, payload: dict, toggles: dict) -> set[str]:
    """Apply a contacts event to a held profile; the kinds of data it changed. A flag it
    turns on or off is noted in `toggles` ({(contact_id, kind, key): on}, the last event
    of a key wins) for _write_toggles, which writes all of a batch's at once."""
    name, contact_id = payload["event"], payload["contact_id"]
    if name == events.CONTACT_UPDATED:
        changed = payload.get("changed") or {}
        values = {}
        for field, value in changed.items():
            values.update(field_values(field, value))
        values["updated_at"] = _moment(payload.get("occurred_at"))
        session.execute(update(Profile).where(Profile.contact_id == contact_id).values(**values))
        if "variables" in changed:
            _set_variables(session, contact_id, changed["variables"])
        if "categories" in changed:
            _set_flags(
                session,
                contact_id,
                CATEGORY,
                [key for key, on in (changed["categories"] or {}).items() if on],
            )
        for entry in payload.get("subscribed") or ():  # channels its new addresses opened
            toggles[(contact_id, SUBSCRIBED, entry["channel"])] = (
                entry.get("status") == "subscribed"
            )
        kinds = {"subscriptions"} if payload.get("subscribed") else set()
        return set(changed) | {"updated_at"} | kinds
    if name in (events.CONTACT_ACTIVATED, events.CONTACT_DEACTIVATED):
        status = "active" if name == events.CONTACT_ACTIVATED else "inactive"
        session.execute(
            update(Profile).where(Profile.contact_id == contact_id).values(status=status)
        )
        return {"status"}
    if name == events.SUBSCRIPTION_CHANGED:
        toggles[(contact_id, SUBSCRIBED, payload["channel"])] = (
            payload.get("status") == "subscribed"
        )
        return {"subscriptions"}
    if name == events.BLACKLIST_CHANGED:
        toggles[(contact_id, BLACKLISTED, payload["list"])] = bool(payload.get("blacklisted"))
        return {"blacklists"}
    return set()


def _write_toggles(session: Session, toggles: dict) -> None:
    """Flags on with one multi-row INSERT, flags off with one DELETE."""
    on = [
        {"contact_id": c, "kind": kind, "key": key}
        for (c, kind, key), wanted in sorted(toggles.items())
        if wanted
    ]
    off = [flag for flag, wanted in sorted(toggles.items()) if not wanted]
    insert_new(session, Flag, on)
    if off:
        session.execute(delete(Flag).where(tuple_(Flag.contact_id, Flag.kind, Flag.key).in_(off)))


def _new_profiles(session: Session, contacts: list[dict]) -> None:
    """Contacts first seen in their contact_created, stored with a few multi-row
    INSERTs; one another process projected meanwhile (its fetch) is newer, and kept."""
    if not contacts:
        return
    rows = []
    for contact in contacts:
        values = {"contact_id": contact["id"]}
        for field in (*PLAIN_FIELDS, "birthday", "address", "created_at", "updated_at"):
            values.update(field_values(field, contact.get(field)))
        rows.append(values)
    stored = insert_new(session, Profile, rows, returning="contact_id")
    flags = [
        {"contact_id": c["id"], "kind": kind, "key": key}
        for c in contacts
        if c["id"] in stored
        for kind, key in _flags(c)
    ]
    variables = [
        variable_row(c["id"], name, value)
        for c in contacts
        if c["id"] in stored
        for name, value in (c.get("variables") or {}).items()
        if value is not None
    ]
    insert_new(session, Flag, flags)
    insert_new(session, Variable, variables)


def on_contact_events(session: Session, payloads: list[dict], fetch: Fetch, clock: Clock) -> int:
    """Apply a batch of contacts' events in their order, then re-check every contact it
    changed; membership changes made. An erasure goes first: an erased contact is never
    projected again, so nothing else about it in the batch counts. Contacts are fetched
    before the first write: on SQLite a write holds the process's one writer lock."""
    hold_definitions(session)
    unseen = _unseen(session, payloads)
    deleted = {p["contact_id"] for p in unseen.values() if p["event"] == events.CONTACT_DELETED}
    gone = deleted | _erased_among(session, (p["contact_id"] for p in unseen.values()))
    held = _lock_profiles(
        session, (p["contact_id"] for p in unseen.values() if p["contact_id"] not in gone)
    )
    created = {
        p["contact_id"]: p["contact"]
        for p in unseen.values()
        if p["event"] == events.CONTACT_CREATED and p["contact_id"] not in held | gone
    }
    # A change before its contact_created: contacts' whole contact holds it.
    fetched = {
        contact_id: fetch(contact_id)
        for contact_id in dict.fromkeys(
            p["contact_id"]
            for p in unseen.values()
            if p["contact_id"] not in held | gone | created.keys()
        )
    }

    fresh = _mark_seen(session, unseen)
    for contact_id in dict.fromkeys(
        p["contact_id"] for p in fresh if p["event"] == events.CONTACT_DELETED
    ):
        erase(session, contact_id)
    _new_profiles(session, list(created.values()))
    held |= _lock_profiles(session, created)
    changed: dict[str, set[str]] = {contact_id: {EVERYTHING} for contact_id in created}
    for contact_id, contact in fetched.items():
        if contact is not None:
            store_contact(session, contact)
            held.add(contact_id)
            changed[contact_id] = {EVERYTHING}
    toggles: dict[tuple[str, str, str], bool] = {}
    for payload in fresh:
        contact_id = payload["contact_id"]
        if (
            payload["event"] == events.CONTACT_CREATED
            or contact_id in fetched
            or contact_id not in held
        ):
            continue  # stored whole above (a created contact, a fetched one), or gone
        changed.setdefault(contact_id, set()).update(
            _apply_contact_change(session, payload, toggles)
        )
    _write_toggles(session, toggles)
    return recheck_contacts(session, changed, clock)


def count_activity(session: Session, counted: Counter) -> None:
    """Add each key's count ({(contact_id, day, channel, type, name, origin): n}) with
    one multi-row upsert (keys sorted: one lock order)."""
    add_counts(
        session,
        ActivityCount,
        [
            {
                "contact_id": contact_id,
                "day": day,
                "channel": channel,
                "type": type,
                "name": name,
                "origin": origin,
                "count": n,
            }
            for (contact_id, day, channel, type, name, origin), n in sorted(counted.items())
        ],
        key=["contact_id", "day", "channel", "type", "name", "origin"],
    )


def on_activity_events(session: Session, payloads: list[dict], clock: Clock) -> int:
    """Count a batch of activity_recorded events' items and re-check, for each contact,
    the segments that read activity. A contact not projected yet is not asked for: its
    contact_created is on the way (the broker loses nothing) and re-checks every
    segment, counts included."""
    hold_definitions(session)
    items = [
        item for payload in first_times(session, payloads) for item in payload.get("items") or ()
    ]
    erased = _erased_among(session, (item["contact_id"] for item in items))
    items = [item for item in items if item["contact_id"] not in erased]
    counted: Counter = Counter(
        (
            i["contact_id"],
            parse_rfc3339(i["occurred_at"]).date(),
            i["channel"],
            i["type"],
            i.get("name") or "",
            i.get("origin") or "",
        )
        for i in items
    )
    count_activity(session, counted)
    held = _lock_profiles(session, (item["contact_id"] for item in items))
    return recheck_contacts(session, {contact_id: {ACTIVITY} for contact_id in held}, clock)
