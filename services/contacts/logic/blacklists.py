"""The account's black lists of addresses: `email` (addresses), `phone` (E.164 numbers),
`viber` (Viber user ids). An address is on a list whether or not a contact has it; a
contact is black-listed on a list while its current address is on it, whoever put it
there, and is sent nothing on that list's channel. Each change of a contact's state,
by a list's change or by the contact's own address changing, is announced as
blacklist_changed for that contact."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.contract.contacts import BlacklistInput, blacklist_value
from plexus.errors import Conflict, Invalid, NotFound
from plexus.paging import page
from plexus.parsing import flatten, load
from plexus.timeutil import utcnow
from services.contacts.logic.addresses import LISTS, addresses_of, resource_of
from services.contacts.logic.conflicts import flush
from services.contacts.logic.events import emit
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import entry_resource
from services.contacts.models import BlacklistEntry, ChannelAddress, Contact

MANUAL = "manual"
# A search as the list holds its addresses: emails in lower case, phones from their `+`
# (which an unencoded query string turns into a space, that the reading trims).
PREFIXES = {"email": str.lower, "phone": lambda q: "+" + q.lstrip("+")}
# Where a contact's address of each list is, as an API field (409 names it when absent).
ADDRESS_FIELDS = {"email": "email", "phone": "phone", "viber": "channels.viber"}


def known_list(list_name) -> str:
    if list_name not in vocab.BLACKLISTS:
        raise NotFound("no such black list; they are " + ", ".join(vocab.BLACKLISTS))
    return list_name


def read_value(list_name: str, value) -> str:
    """The address as the list holds it (normalised as a contact's own); 422 naming
    `value` when it is not one."""
    try:
        return blacklist_value(list_name, value)
    except ValidationError as error:
        raise Invalid(
            f"value is not a valid {list_name} address", flatten(error.messages, "value")
        ) from None


def _source(source) -> str:
    if source not in vocab.BLACKLIST_SOURCES:
        raise Invalid(
            "no such source", {"source": ["one of " + ", ".join(vocab.BLACKLIST_SOURCES)]}
        )
    return source


def holder(session: Session, list_name: str, value: str) -> Contact | None:
    """The contact whose current address `value` is (addresses are unique)."""
    if list_name == "viber":
        query = (
            select(Contact)
            .join(ChannelAddress)
            .where(ChannelAddress.channel == "viber", ChannelAddress.address == value)
        )
    else:
        query = select(Contact).where(getattr(Contact, list_name) == value)
    return session.scalar(query)


def _announce(
    session: Session,
    contact: Contact | None,
    list_name: str,
    entry: BlacklistEntry | None,
    actor: str,
) -> None:
    if contact is None:
        return
    contact.updated_at = utcnow()
    flush(session)
    emit(
        session,
        events.BLACKLIST_CHANGED,
        actor,
        contact_id=contact.id,
        list=list_name,
        blacklisted=entry is not None,
        reason=entry.reason if entry else None,
    )


def _add(
    session: Session, list_name: str, value: str, reason: str | None, source: str, actor: str
) -> tuple[BlacklistEntry, bool]:
    """The address's entry, and whether this call made it. One a writer beside us made
    first is theirs: their entry stands (and their event announced it)."""
    entry = BlacklistEntry(
        list=list_name, value=value, added_at=utcnow(), reason=reason, source=source
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return session.get(BlacklistEntry, (list_name, value)), False
    _announce(session, holder(session, list_name, value), list_name, entry, actor)
    return entry, True


def _remove(session: Session, entry: BlacklistEntry, actor: str) -> None:
    session.delete(entry)
    flush(session)
    _announce(session, holder(session, entry.list, entry.value), entry.list, None, actor)


# ---------------------------------------------------------------- the lists themselves


def list_entries(
    session: Session, list_name: str, q: str | None, limit: int, cursor: str | None
) -> dict:
    """A list's entries in address order; `q`: only addresses starting with it (an
    email's in lower case, as the list holds them)."""
    known_list(list_name)
    query = select(BlacklistEntry).where(BlacklistEntry.list == list_name)
    if q:
        prefix = PREFIXES.get(list_name, str)(q)
        # LIKE for an index, the exact comparison for case (SQLite's LIKE ignores it).
        query = query.where(
            BlacklistEntry.value.startswith(prefix, autoescape=True),
            func.substr(BlacklistEntry.value, 1, len(prefix)) == prefix,
        )
    return page(session, query, BlacklistEntry.value, limit, cursor, entry_resource)


def put_entry(session: Session, list_name: str, value, data, actor: str) -> dict:
    """Put an address on the list (source manual); one already there keeps when and how
    it came, and takes the new reason."""
    known_list(list_name)
    value = read_value(list_name, value)
    reason = load(BlacklistInput(), {} if data is None else data)["reason"]
    entry = session.get(BlacklistEntry, (list_name, value))
    if entry is None:
        entry = _add(session, list_name, value, reason, MANUAL, actor)[0]
    if entry.reason != reason:
        entry.reason = reason
        flush(session)
    return entry_resource(entry)


def delete_entry(session: Session, list_name: str, value, actor: str) -> None:
    known_list(list_name)
    entry = session.get(BlacklistEntry, (list_name, read_value(list_name, value)))
    if entry is None:
        raise NotFound(f"that address is not on the {list_name} black list")
    _remove(session, entry, actor)


def blacklist_address(
    session: Session, list_name: str, value, reason, source: str, actor: str
) -> dict:
    """For messaging (hard bounces, complaints, a permanent refusal at send time): list
    the address unless it is listed already, which keeps its entry as it is."""
    known_list(list_name)
    value = read_value(list_name, value)
    reason = load(BlacklistInput(), {"reason": reason})["reason"]
    source = _source(source)
    if session.get(BlacklistEntry, (list_name, value)) is not None:
        return {"added": False}
    return {"added": _add(session, list_name, value, reason, source, actor)[1]}


# ---------------------------------------------------------------- through a contact


def _current_address(contact: Contact, list_name: str) -> str:
    value = addresses_of(contact).get(LISTS[list_name])
    if value is None:
        field = ADDRESS_FIELDS[list_name]
        raise Conflict(
            f"the contact has no {list_name} address to black-list",
            {field: ["the contact has none"]},
        )
    return value


def add_to_blacklist(session: Session, contact_id: str, list_name: str, data, actor: str) -> dict:
    """Put the contact's current address on the list (as put_entry does); 409 when it has
    none."""
    known_list(list_name)
    reason = load(BlacklistInput(), {} if data is None else data)["reason"]
    contact = contact_or_404(session, contact_id)
    value = _current_address(contact, list_name)
    entry = session.get(BlacklistEntry, (list_name, value))
    if entry is None:
        entry = _add(session, list_name, value, reason, MANUAL, actor)[0]
    if entry.reason != reason:
        entry.reason = reason
        contact.updated_at = utcnow()
        flush(session)
    return resource_of(session, contact)


def remove_from_blacklist(session: Session, contact_id: str, list_name: str, actor: str) -> dict:
    """Take the contact's current address off the list; 409 when it has none."""
    known_list(list_name)
    contact = contact_or_404(session, contact_id)
    entry = session.get(BlacklistEntry, (list_name, _current_address(contact, list_name)))
    if entry is not None:
        _remove(session, entry, actor)
    return resource_of(session, contact)


# ---------------------------------------------------------------- addresses that change


def moves(contact, before: dict[str, str | None], actor: str, writer) -> None:
    """Announce each list the contact came onto or off by its addresses changing:
    `before` holds the previous value of each kind of address that changed (None for
    one it did not have). `writer`: where the events go (writers)."""
    now = addresses_of(contact)
    for list_name, kind in LISTS.items():
        if kind not in before:
            continue
        was = writer.known.entry(list_name, before[kind])
        is_ = writer.known.entry(list_name, now.get(kind))
        if (was is None) != (is_ is None):
            writer.event(
                events.BLACKLIST_CHANGED,
                actor,
                contact_id=contact.id,
                list=list_name,
                blacklisted=is_ is not None,
                reason=is_.reason if is_ is not None else None,
            )
