"""Contacts themselves: create, read, look up, change, (de)activate, erase."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.contract.contacts import ContactCreate, ContactUpdate
from plexus.contract.fields import normalise_phone
from plexus.errors import Invalid, NotFound
from plexus.ids import new_id
from plexus.keys import usable_key
from plexus.paging import envelope, page_of
from plexus.parsing import flatten, invalid
from plexus.timeutil import utcnow
from services.contacts.logic import blacklists, contact_input, reading, suppression
from services.contacts.logic.addresses import CONTACT_FIELDS, resource_of
from services.contacts.logic.conflicts import flush
from services.contacts.logic.events import emit
from services.contacts.logic.identifiers import Owners
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.references import References
from services.contacts.logic.representation import contact_resource, field_value
from services.contacts.logic.subscriptions import (
    ADDRESS_ADDED,
    ADDRESS_FIELDS,
    listed,
    subscribe_new_addresses,
)
from services.contacts.logic.writers import SessionWriter, Writer
from services.contacts.models import Contact, Outbox

# What null writes to a field that always has a value.
DEFAULTS = {"gender": 0, "contact_score": 0.0}


def stored_value(contact: Contact, field: str, value):
    """What `field` holds once `value` is written: categories and variables change only
    the names given (a null variable is removed); null restores a default."""
    if field == "categories":
        return {} if value is None else {**(contact.categories or {}), **value}
    if field == "variables":
        if value is None:
            return {}
        merged = {**(contact.variables or {}), **value}
        return {name: held for name, held in merged.items() if held is not None}
    if field == "address":
        return value if value and any(part is not None for part in value.values()) else None
    if value is None:
        return DEFAULTS.get(field)
    return value


def apply_values(contact: Contact, values: dict) -> dict:
    """Write `values`; the fields that really changed, as the resource shows them."""
    changed = {}
    for field, value in values.items():
        new = stored_value(contact, field, value)
        if new != getattr(contact, field):
            setattr(contact, field, new)
            changed[field] = field_value(contact, field)
    return changed


def _new_address_channels(contact: Contact, changed: dict) -> list[str]:
    return [
        channel
        for field, channel in ADDRESS_FIELDS.items()
        if field in changed and getattr(contact, field) is not None
    ]


def _arrived(contact: Contact, moved: dict) -> dict[str, str]:
    """The contact's new addresses among the kinds `moved`."""
    return {kind: getattr(contact, kind) for kind in moved if getattr(contact, kind) is not None}


def insert(
    session: Session,
    values: dict,
    owners: Owners,
    actor: str,
    write: bool = True,
    writer: Writer | None = None,
    *,
    created_via: str = "api",
    address_reason: str | None = ADDRESS_ADDED,
) -> Contact:
    """Store a new contact from valid values; announce it and the channels its addresses
    subscribed. `writer` says where its rows go (writers; the session by default);
    `write=False` leaves the writing to the caller (a batch). `created_via`: how it
    arrived (vocab.CREATED_VIA). `address_reason`: the ledger's reason for the channels
    its addresses subscribe; None subscribes none (the form's address waits for its
    confirmation)."""
    writer = writer or SessionWriter(session)
    owners.check_free(values)
    now = utcnow()
    contact = writer.new_contact(
        id=new_id(),
        status="active",
        gender=0,
        contact_score=0.0,
        categories={},
        variables={},
        created_via=created_via,
        created_at=now,
        updated_at=now,
    )
    # Only the flush at the end writes (rows and events at once), so that a taken
    # identifier surfaces there, named.
    with session.no_autoflush:
        changed = apply_values(contact, values)
        writer.add_contact(contact)
        moved = {kind: None for kind in CONTACT_FIELDS if kind in changed}
        # An address an erased contact left suppressed first: its channel then starts
        # unsubscribed, not subscribed (also for the form's contact, which subscribes none).
        subscribed = suppression.restore(session, contact, _arrived(contact, moved), now, writer)
        if address_reason:
            subscribed += subscribe_new_addresses(
                session,
                contact,
                _new_address_channels(contact, changed),
                actor,
                now,
                writer,
                reason=address_reason,
            )
        # The event's id first: the subscriptions it lists take ids that sort after it.
        event_id = new_id()
        writer.event(
            events.CONTACT_CREATED,
            actor,
            event_id=event_id,
            contact_id=contact.id,
            contact=contact_resource(contact, writer.known.blacklisted(contact)),
            subscribed=listed(subscribed),
        )
        blacklists.moves(contact, moved, actor, writer)
    if write:
        flush(session)
    owners.claim(contact)
    return contact


def change(
    session: Session,
    contact: Contact,
    values: dict,
    owners: Owners,
    actor: str,
    write: bool = True,
    writer: Writer | None = None,
) -> dict:
    """Apply valid values to a stored contact as a PATCH; the changed fields. Nothing is
    written or announced when nothing changes. `writer`, `write=False`: as for insert."""
    writer = writer or SessionWriter(session)
    owners.check_free(values, contact)
    with session.no_autoflush:
        before = {kind: getattr(contact, kind) for kind in CONTACT_FIELDS}
        changed = apply_values(contact, values)
        if not changed:
            return changed
        now = utcnow()
        contact.updated_at = now
        writer.changed(contact, [*changed, "updated_at"])
        moved = {kind: before[kind] for kind in CONTACT_FIELDS if kind in changed}
        subscribed = suppression.restore(session, contact, _arrived(contact, moved), now, writer)
        subscribed += subscribe_new_addresses(
            session, contact, _new_address_channels(contact, changed), actor, now, writer
        )
        event_id = new_id()
        writer.event(
            events.CONTACT_UPDATED,
            actor,
            event_id=event_id,
            contact_id=contact.id,
            changed=changed,
            subscribed=listed(subscribed),
        )
        blacklists.moves(contact, moved, actor, writer)
    if write:
        flush(session)
    owners.claim(contact)
    return changed


def create_contact(session: Session, data, actor: str, created_via: str = "api") -> dict:
    values, errors = contact_input.read(ContactCreate(), data)
    errors = contact_input.problems(values, errors, References.load(session, [values]))
    if errors:
        raise invalid(errors)
    contact = insert(
        session, values, Owners.load(session, [values]), actor, created_via=created_via
    )
    return resource_of(session, contact)


def _with_stored_region(contact: Contact, data):
    """A national phone in a PATCH is read in the contact's own country unless the body
    gives a region or a new address."""
    if (
        isinstance(data, dict)
        and "phone" in data
        and "region" not in data
        and "address" not in data
    ):
        country = (contact.address or {}).get("country")
        if country:
            return {**data, "region": country}
    return data


def update_contact(session: Session, contact_id: str, data, actor: str) -> dict:
    contact = contact_or_404(session, contact_id)
    values, errors = contact_input.read(ContactUpdate(), _with_stored_region(contact, data))
    errors = contact_input.problems(values, errors, References.load(session, [values]), contact)
    if errors:
        raise invalid(errors)
    change(session, contact, values, Owners.load(session, [values]), actor)
    return resource_of(session, contact)


def get_contact(db, contact_id: str) -> dict:
    """One contact in one statement (reading.py); `db` a Connection or a Session."""
    found = reading.contacts_where(db, id=contact_id) if usable_key(contact_id) else []
    if not found:
        raise NotFound("no such contact")
    return found[0]


def find_contacts(
    db,
    user_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    region: str | None = None,
    status: str | None = None,
    subscribed: str | None = None,
    name: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict:
    """By any identifier given (all must hold); with none, every contact newest first.
    The filters (`status`, `subscribed` channel, `name` prefix) narrow either. Each page in
    one statement (reading.py)."""
    equal = {}
    if user_id is not None:
        equal["user_id"] = user_id
    if email is not None:
        equal["email"] = email.lower()
    if phone is not None:
        try:
            equal["phone"] = normalise_phone(phone, region)
        except ValidationError as error:
            raise invalid(flatten(error.messages, "phone")) from None
    filters = reading.Filters(status=status, subscribed=subscribed, name=name)
    if equal:
        return envelope(reading.contacts_where(db, filters, **equal), None)
    return page_of(
        reading.contacts_page(db, limit + 1, cursor, filters),
        limit,
        dict,
        lambda contact: contact["id"],
    )


def set_status(session: Session, contact_id: str, status: str, actor: str) -> dict:
    if status not in vocab.CONTACT_STATUSES:
        raise Invalid(
            "status must be active or inactive", {"status": ["must be active or inactive"]}
        )
    contact = contact_or_404(session, contact_id)
    if contact.status != status:
        contact.status = status
        contact.updated_at = utcnow()
        flush(session)
        name = events.CONTACT_ACTIVATED if status == "active" else events.CONTACT_DEACTIVATED
        emit(session, name, actor, contact_id=contact.id)
    return resource_of(session, contact)


def delete_contact(session: Session, contact_id: str, actor: str) -> None:
    """Erase the contact and everything of it here (its rows cascade). Its events not yet
    published go too: they carry personal data, and nobody has seen them. Of its
    addresses that were black-listed or unsubscribed only keyed hashes stay
    (suppression.keep)."""
    contact = contact_or_404(session, contact_id, whole=False)
    suppression.keep(session, contact)
    session.execute(
        delete(Outbox)
        .where(Outbox.payload["contact_id"].as_string() == contact.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(contact)
    flush(session)
    emit(session, events.CONTACT_DELETED, actor, contact_id=contact.id)
