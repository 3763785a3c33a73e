"""What external systems post (POST /v1/events, /v1/events/batch, /v1/orders): custom
events, custom conversions and orders, each about a contact named by any identifier.

The contact is resolved by `contacts` (services.activity.ports.ContactsPort in the service;
a fake in tests) before anything is written; one named by identifiers that no contact has
is made then (created_via `event` or `order`) unless the body says `"create_contact":
false`. Posting an order's external_id again updates that
order's feed item instead of adding one."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from plexus.contract.activity import EventBatch, EventInput, OrderInput
from plexus.errors import Conflict, Invalid, NotFound, PlexusError
from plexus.parsing import WHOLE, flatten, load
from plexus.timeutil import utcnow
from services.activity.logic.recording import record, record_many
from services.activity.logic.representation import item_resource
from services.activity.models import ActivityItem, Order

NO_CONTACT = "no such contact"
# How a contact made for a posted event or order arrived (its created_via).
EVENT, ORDER = "event", "order"


def contact_problem(error: PlexusError) -> dict[str, list[str]]:
    """A failed look-up as errors of the request's `contact` field."""
    if isinstance(error, NotFound):
        return {"contact": [NO_CONTACT]}
    return {
        f"contact.{path}" if path != WHOLE else "contact": texts
        for path, texts in (error.errors or {WHOLE: [error.detail]}).items()
    }


def _contact_id(contacts, values: dict, created_via: str, actor: str) -> str:
    """The contact the posted body names, made now (as arrived by `created_via`) when it
    names one by identifiers that none has, unless the body says `create_contact`
    false."""
    creating = created_via if values["create_contact"] else None
    found = contacts.resolve_many([values["contact"]], [creating], actor)[0]
    if isinstance(found, NotFound):
        raise NotFound(NO_CONTACT, {"contact": [NO_CONTACT]})
    if isinstance(found, Conflict):
        raise Conflict("the contact's identifiers belong to others", contact_problem(found))
    if isinstance(found, PlexusError):
        raise Invalid("invalid contact", contact_problem(found))
    return found


def _event_values(values: dict, contact_id: str, actor: str) -> dict:
    """record()'s arguments for a posted custom event or conversion."""
    details = {"name": values["name"], "properties": values["properties"], "actor": actor}
    kind = "custom_event"
    if values.get("conversion"):
        kind, details["conversion"] = "custom_conversion", values["conversion"]
    return {
        "contact_id": contact_id,
        "occurred_at": values["occurred_at"] or utcnow(),
        "channel": "other",
        "type": kind,
        "name": values["name"],
        "details": details,
    }


def _event_row(session: Session, values: dict, contact_id: str, actor: str) -> ActivityItem:
    row = record(session, **_event_values(values, contact_id, actor))
    if row is None:  # erased between the look-up and now
        raise NotFound(NO_CONTACT, {"contact": [NO_CONTACT]})
    return row


def record_event(session: Session, data, actor: str, contacts) -> dict:
    values = load(EventInput(), data)
    contact_id = _contact_id(contacts, values, EVENT, actor)
    return item_resource(_event_row(session, values, contact_id, actor))


def _result(
    index: int, status: str, item_id: str | None = None, errors: dict | None = None
) -> dict:
    return {"index": index, "status": status, "id": item_id, "errors": errors}


def _read(schema: EventInput, data) -> tuple[dict | None, dict | None]:
    try:
        return schema.load(data), None
    except ValidationError as error:
        return None, flatten(error.messages)


def record_events(session: Session, items, actor: str, contacts) -> dict:
    """Up to 1,000 events; each is recorded or refused on its own. The contacts are
    resolved with one call and the rows written with one INSERT."""
    load(EventBatch(), {"events": items})
    schema = EventInput()
    read = [_read(schema, item) for item in items]
    valid = [values for values, errors in read if values is not None]
    found = iter(
        contacts.resolve_many(
            [values["contact"] for values in valid],
            [EVENT if values["create_contact"] else None for values in valid],
            actor,
        )
    )
    results: list[dict | None] = []
    rows, row_indexes = [], []
    for index, (values, errors) in enumerate(read):
        if errors:
            results.append(_result(index, "error", errors=errors))
            continue
        contact = next(found)
        if isinstance(contact, PlexusError):
            results.append(_result(index, "error", errors=contact_problem(contact)))
            continue
        results.append(None)
        rows.append(_event_values(values, contact, actor))
        row_indexes.append(index)
    for index, item_id in zip(row_indexes, record_many(session, rows), strict=True):
        results[index] = (
            _result(index, "accepted", item_id)
            if item_id is not None
            else _result(index, "error", errors={"contact": [NO_CONTACT]})
        )
    return {"results": results}


def _order_details(values: dict, actor: str, history: list) -> dict:
    return {
        "external_id": values["external_id"],
        "amount": values["amount"],
        "currency": values["currency"],
        "status": values["status"],
        "actor": actor,
        "status_history": history,
    }


def _update_order(
    session: Session, order: Order, values: dict, contact_id: str, actor: str
) -> ActivityItem:
    if order.contact_id != contact_id:
        raise Conflict(
            "this external_id is an order of another contact",
            {"external_id": ["is an order of another contact"]},
        )
    # By id and occurred_at: on PostgreSQL that names the one partition holding it.
    row = session.scalar(
        select(ActivityItem).where(
            ActivityItem.id == order.item_id, ActivityItem.occurred_at == order.occurred_at
        )
    )
    history = list(row.details.get("status_history") or [])
    if values["status"] != row.details.get("status"):
        history.append({"status": values["status"], "at": utcnow().isoformat()})
    row.details = _order_details(values, actor, history)
    if values["occurred_at"] is not None:
        row.occurred_at = order.occurred_at = values["occurred_at"]
    order.updated_at = utcnow()
    return row


def record_order(session: Session, data, actor: str, contacts) -> dict:
    """{"created": bool, "item": the order's feed item as stored}."""
    values = load(OrderInput(), data)
    contact_id = _contact_id(contacts, values, ORDER, actor)
    order = session.get(Order, values["external_id"], with_for_update=True)
    if order is not None:
        row = _update_order(session, order, values, contact_id, actor)
        return {"created": False, "item": item_resource(row)}
    occurred_at = values["occurred_at"] or utcnow()
    history = [{"status": values["status"], "at": utcnow().isoformat()}]
    row = record(
        session,
        contact_id=contact_id,
        occurred_at=occurred_at,
        channel="other",
        type="order",
        details=_order_details(values, actor, history),
    )
    if row is None:
        raise NotFound(NO_CONTACT, {"contact": [NO_CONTACT]})
    try:
        with session.begin_nested():
            session.add(
                Order(
                    external_id=values["external_id"],
                    item_id=row.id,
                    contact_id=contact_id,
                    occurred_at=occurred_at,
                    updated_at=utcnow(),
                )
            )
    except exc.IntegrityError:
        # The same external_id posted twice at once: the other one made it; this one
        # is rolled back whole, and posting it again updates that order.
        raise Conflict(
            "this order is being recorded by another request; post it again",
            {"external_id": ["being recorded by another request"]},
        ) from None
    return {"created": True, "item": item_resource(row)}
