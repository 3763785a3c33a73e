"""Addresses that can never take mail go on the account's email black list: a hard bounce
(an SMTP 5xx at send time, or the relay's webhook) and a complaint, with that `source`.
Only a status newly recorded lists the address: a provider repeating a receipt does not
put back an address someone has since taken off the list.

The address listed is the contact's current email, asked of contacts, since messages
keep no address of their own (the one they went to was the contact's at that moment)."""

from __future__ import annotations

from dataclasses import dataclass

from plexus.errors import NotFound
from services.messaging.logic import expiry, messages
from services.messaging.models import Message
from services.messaging.ports import ContactsPort

# Status -> the black-list entry's `source`.
LISTING_SOURCE = {"hard_bounce": "hard_bounce", "complaint": "complaint"}


@dataclass(frozen=True)
class Listing:
    contact_id: str
    reason: str
    source: str


def listing(message: Message, status: str, reason: str | None) -> Listing | None:
    """What a status newly recorded on `message` puts on the black list, if anything."""
    source = LISTING_SOURCE.get(status)
    if message.channel != "email" or source is None:
        return None
    return Listing(message.contact_id, (reason or status)[:500], source)


def blacklist(contacts: ContactsPort, listings: list[Listing], actor: str) -> None:
    for entry in listings:
        try:
            email = contacts.get_contact(entry.contact_id).get("email")
        except NotFound:  # erased since: its suppression record keeps it barred
            continue
        if email:
            contacts.blacklist_address("email", email, entry.reason, entry.source, actor)


def report_delivery(
    transaction,
    contacts: ContactsPort,
    message_id: str,
    status: str,
    details: dict,
    ttls: dict[str, float] | None = None,
) -> bool:
    """A sender's word on one message: sent (its expiry set where its channel has a TTL,
    `ttls`), delivered (Telegram: the Bot API took it), or how it failed for good; an
    SMTP 5xx at send time black-lists the address. False when it changed nothing."""
    with transaction() as session:
        message = messages.message_or_404(session, message_id)
        recorded = messages.record_status(session, message, status, details)
        if recorded and status == messages.SENT:
            expiry.set_due(message, ttls or {})
        found = listing(message, status, (details or {}).get("reason")) if recorded else None
        actor = f"sender:{message.channel}"
    if found:
        blacklist(contacts, [found], actor)
    return recorded
