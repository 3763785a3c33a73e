"""Suppression after erasure: an erased contact leaves nothing of itself but, for each of
its addresses that was black-listed or whose channel it had unsubscribed, a keyed hash
of the address (addresses.digest) and which of the two it was. A contact that later
takes that address (created, imported, changed, a chat or Viber id registered) starts
unsubscribed on its channel, with the ledger's reason `suppressed before erasure` (unless
it has a consent of its own there already), and black-listed again (source `erased`) if
it was; the record is then used up: from there on the contact's own consent and the
black list say it, in clear text, as for anyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from plexus.timeutil import utcnow
from services.contacts.logic import subscriptions
from services.contacts.logic.addresses import KINDS, addresses_of, digest
from services.contacts.models import BlacklistEntry, Contact, SuppressedAddress

SUPPRESSED = "suppressed before erasure"
ACTOR = "suppression"  # who the consent ledger says made the change


def keep(session: Session, contact: Contact) -> None:
    """Before the contact is erased: the suppression records of its addresses, and its
    addresses' clear-text black-list entries removed."""
    statuses = {row.channel: row.status for row in contact.subscriptions}
    now = utcnow()
    for kind, value in addresses_of(contact).items():
        channel, list_name = KINDS[kind]
        entry = session.get(BlacklistEntry, (list_name, value)) if list_name else None
        unsubscribed = statuses.get(channel) == "unsubscribed"
        if entry is None and not unsubscribed:
            continue
        if entry is not None:
            session.delete(entry)
        hashed = digest(session, kind, value)
        record = session.get(SuppressedAddress, (kind, hashed))
        if record is None:
            session.add(
                SuppressedAddress(
                    kind=kind,
                    digest=hashed,
                    unsubscribed=unsubscribed,
                    blacklisted=entry is not None,
                    created_at=now,
                )
            )
        else:  # left by an earlier contact, and never taken since: both count
            record.unsubscribed = record.unsubscribed or unsubscribed
            record.blacklisted = record.blacklisted or entry is not None


def restore(
    session: Session, contact, arrived: dict[str, str], now: datetime, writer
) -> list[dict]:
    """The contact just took the addresses `arrived` ({kind: value}): each one an erased
    contact left suppressed makes it start as that one ended. The subscription changes
    made, as subscriptions.change gives them. `writer`: where the rows go (writers)."""
    changes = []
    for kind, value in arrived.items():
        record = writer.known.suppressed(kind, value)
        if record is None:
            continue
        channel, list_name = KINDS[kind]
        if record.blacklisted and list_name and writer.known.entry(list_name, value) is None:
            writer.add_entry(
                list=list_name, value=value, added_at=now, reason=SUPPRESSED, source="erased"
            )
        # A channel the contact already has a consent of its own on keeps it.
        if record.unsubscribed and subscriptions.status_of(contact, channel) == "never":
            made = subscriptions.change(
                session, contact, channel, "unsubscribed", SUPPRESSED, ACTOR, now, writer
            )
            if made is not None:
                changes.append(made)
        writer.forget_suppressed(record)
    return changes
