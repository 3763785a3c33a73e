"""The service's own copy of what rules read, fed by contacts' and activity's events
(plexus.contract.events), each applied once (event_id) and followed by a re-check of
the segments that read what changed.

Events may arrive out of order: a change about a contact not yet projected makes the
service ask contacts for the whole contact (`fetch`, an RPC), which already holds the
change; a contact_created arriving after that is older than what is held and ignored.
Activity about a contact not yet projected is counted and waits for its contact_created.
Nothing is projected again for a contact erased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, exc, select, update
from sqlalchemy.orm import Session

from plexus.contract import events
from plexus.contract.activity import parse_rfc3339
from services.segments.logic.compiler import ACTIVITY, Clock
from services.segments.logic.membership import EVERYTHING, forget_contact, recheck_contact
from services.segments.models import (
    ActivityCount,
    ErasedContact,
    Flag,
    Profile,
    SeenEvent,
    Variable,
)

# fetch(contact_id) -> the contact as contacts' get_contact gives it, or None if unknown.
Fetch = Callable[[str], "dict | None"]

PLAIN_FIELDS = ("user_id", "email", "phone", "first_name", "last_name", "gender",
                "language", "timezone", "source", "avatar_url", "contact_score", "status")
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
    found = [(SUBSCRIBED, channel) for channel, state in (contact.get("subscriptions") or {})
             .items() if (state or {}).get("status") == "subscribed"]
    found += [(BLACKLISTED, name) for name, entry in (contact.get("blacklists") or {}).items()
              if entry]
    found += [(CATEGORY, name) for name, on in (contact.get("categories") or {}).items() if on]
    return found


def variable_row(contact_id: str, name: str, value) -> dict:
    if isinstance(value, bool):
        text, number = ("true" if value else "false"), None
    elif isinstance(value, int | float):
        text, number = repr(value), float(value)
    else:
        text, number = str(value), None
    return {"contact_id": contact_id, "name": name, "text_value": text,
            "number_value": number}


def _set_flags(session: Session, contact_id: str, kind: str, keys) -> None:
    session.execute(delete(Flag).where(Flag.contact_id == contact_id, Flag.kind == kind))
    session.add_all(Flag(contact_id=contact_id, kind=kind, key=key) for key in keys)


def _set_variables(session: Session, contact_id: str, values: dict | None) -> None:
    session.execute(delete(Variable).where(Variable.contact_id == contact_id))
    session.add_all(Variable(**variable_row(contact_id, name, value))
                    for name, value in (values or {}).items() if value is not None)


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
    session.add_all(Flag(contact_id=contact_id, kind=kind, key=key)
                    for kind, key in _flags(contact))
    _set_variables(session, contact_id, contact.get("variables"))
    session.flush()


def erase(session: Session, contact_id: str) -> None:
    forget_contact(session, contact_id)
    for model in (Profile, Flag, Variable, ActivityCount):
        session.execute(delete(model).where(model.contact_id == contact_id))
    if session.get(ErasedContact, contact_id) is None:
        session.add(ErasedContact(contact_id=contact_id))


def first_time(session: Session, event_id: str) -> bool:
    """Marks the event seen; False when it was seen before."""
    try:
        with session.begin_nested():
            session.add(SeenEvent(event_id=event_id))
    except exc.IntegrityError:
        return False
    return True


def _locked_profile(session: Session, contact_id: str) -> Profile | None:
    # One event at a time per contact: two workers re-checking one contact on two
    # snapshots could otherwise undo each other's answer (PostgreSQL; SQLite writes
    # one at a time anyway).
    return session.scalar(select(Profile).where(Profile.contact_id == contact_id)
                          .with_for_update())


def _ensure_profile(session: Session, contact_id: str, fetch: Fetch) -> bool | None:
    """True: held before; False: fetched just now (it holds the change); None: the
    contact does not exist (erased, or never was)."""
    if _locked_profile(session, contact_id) is not None:
        return True
    contact = fetch(contact_id)
    if contact is None:
        return None
    store_contact(session, contact)
    return False


def _apply_contact_change(session: Session, payload: dict) -> set[str]:
    """Apply a contacts event to a held profile; the kinds of data it changed."""
    name, contact_id = payload["event"], payload["contact_id"]
    if name == events.CONTACT_UPDATED:
        changed = payload.get("changed") or {}
        values = {}
        for field, value in changed.items():
            values.update(field_values(field, value))
        values["updated_at"] = _moment(payload.get("occurred_at"))
        session.execute(update(Profile).where(Profile.contact_id == contact_id)
                        .values(**values))
        if "variables" in changed:
            _set_variables(session, contact_id, changed["variables"])
        if "categories" in changed:
            _set_flags(session, contact_id, CATEGORY, [
                key for key, on in (changed["categories"] or {}).items() if on])
        return set(changed) | {"updated_at"}
    if name in (events.CONTACT_ACTIVATED, events.CONTACT_DEACTIVATED):
        status = "active" if name == events.CONTACT_ACTIVATED else "inactive"
        session.execute(update(Profile).where(Profile.contact_id == contact_id)
                        .values(status=status))
        return {"status"}
    if name == events.SUBSCRIPTION_CHANGED:
        _toggle(session, contact_id, SUBSCRIBED, payload["channel"],
                payload.get("status") == "subscribed")
        return {"subscriptions"}
    if name == events.BLACKLIST_CHANGED:
        _toggle(session, contact_id, BLACKLISTED, payload["list"],
                bool(payload.get("blacklisted")))
        return {"blacklists"}
    return set()


def _toggle(session: Session, contact_id: str, kind: str, key: str, on: bool) -> None:
    session.execute(delete(Flag).where(Flag.contact_id == contact_id, Flag.kind == kind,
                                       Flag.key == key))
    if on:
        session.add(Flag(contact_id=contact_id, kind=kind, key=key))
    session.flush()


def on_contact_event(session: Session, payload: dict, fetch: Fetch, clock: Clock) -> int:
    """Apply one contacts event and re-check what it may have changed; membership
    changes made."""
    contact_id = payload["contact_id"]
    if not first_time(session, payload["event_id"]):
        return 0
    if payload["event"] == events.CONTACT_DELETED:
        erase(session, contact_id)
        return 0
    if session.get(ErasedContact, contact_id) is not None:
        return 0
    if payload["event"] == events.CONTACT_CREATED:
        if _locked_profile(session, contact_id) is not None:
            return 0  # fetched already, after a later change: newer than this
        store_contact(session, payload["contact"], replace=False)
        return recheck_contact(session, contact_id, {EVERYTHING}, clock)
    held = _ensure_profile(session, contact_id, fetch)
    if held is None:
        return 0
    kinds = _apply_contact_change(session, payload) if held else {EVERYTHING}
    return recheck_contact(session, contact_id, kinds, clock)


def count_activity(session: Session, contact_id: str, day: date, channel: str, type: str,
                   name: str | None, origin: str | None, n: int = 1) -> None:
    key = {"contact_id": contact_id, "day": day, "channel": channel, "type": type,
           "name": name or "", "origin": origin or ""}
    bump = update(ActivityCount).filter_by(**key).values(count=ActivityCount.count + n)
    if session.execute(bump).rowcount:
        return
    try:
        with session.begin_nested():
            session.add(ActivityCount(**key, count=n))
    except exc.IntegrityError:  # another worker made the row first
        session.execute(bump)


def on_activity_event(session: Session, payload: dict, clock: Clock) -> int:
    """Count one activity item and re-check the segments that read activity. A contact
    not projected yet is not asked for: its contact_created is on the way (the broker
    loses nothing) and re-checks every segment, counts included."""
    contact_id = payload["contact_id"]
    if not first_time(session, payload["event_id"]):
        return 0
    if session.get(ErasedContact, contact_id) is not None:
        return 0
    held = _locked_profile(session, contact_id) is not None
    day = parse_rfc3339(payload["occurred_at"]).date()
    count_activity(session, contact_id, day, payload["channel"], payload["type"],
                   payload.get("name"), payload.get("origin"))
    return recheck_contact(session, contact_id, {ACTIVITY}, clock) if held else 0
