"""Consent per channel. Every change is written to the ledger (subscription_history)
with who made it and why, and announced: as subscription_changed, or, when a new address
subscribed it, in the `subscribed` list of the contact_created or contact_updated
event that brought the address (one event for a change, not one for each part).

A channel is "never" until the contact first has an address for it (an email, a phone,
a Telegram chat, a Viber user, a browser), which subscribes it. Channels that need the
person's own action to get an address (telegram, viber, webpush_*, app_push) cannot be subscribed
by hand unless the ledger shows they were subscribed before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.contract.contacts import SubscriptionInput
from plexus.errors import Conflict, NotFound
from plexus.ids import new_id
from plexus.paging import page
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.addresses import resource_of
from services.contacts.logic.conflicts import flush
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import history_entry
from services.contacts.logic.writers import SessionWriter, Writer
from services.contacts.models import Contact, SubscriptionChange

ADDRESS_ADDED = "address added"
# The contact field that is the address of an open channel.
ADDRESS_FIELDS = {"email": "email", "phone": "sms"}


def status_of(contact: Contact, channel: str) -> str:
    for row in contact.subscriptions:
        if row.channel == channel:
            return row.status
    return "never"


def change(
    session: Session,
    contact: Contact,
    channel: str,
    status: str,
    reason: str | None,
    actor: str,
    now: datetime,
    writer: Writer | None = None,
) -> dict | None:
    """Set the channel's status and write the ledger; the subscription_changed payload,
    or None when the status was already that. `writer`: where the rows go (writers)."""
    writer = writer or SessionWriter(session)
    previous = status_of(contact, channel)
    if previous == status:
        return None
    row = next((row for row in contact.subscriptions if row.channel == channel), None)
    if row is None:
        row = writer.new_subscription(contact, channel)
    row.status, row.reason, row.changed_at = status, reason, now
    writer.ledger(
        contact_id=contact.id,
        channel=channel,
        status=status,
        previous_status=previous,
        reason=reason,
        actor=actor,
        changed_at=now,
    )
    return {
        "contact_id": contact.id,
        "channel": channel,
        "status": status,
        "previous": previous,
        "reason": reason,
    }


def subscribe_new_addresses(
    session: Session,
    contact: Contact,
    channels,
    actor: str,
    now: datetime,
    writer: Writer | None = None,
    reason: str = ADDRESS_ADDED,
) -> list[dict]:
    """Subscribe each of `channels` the contact now has an address for and never had."""
    changes = []
    for channel in channels:
        if status_of(contact, channel) == "never":
            changes.append(
                change(session, contact, channel, "subscribed", reason, actor, now, writer)
            )
    return changes


def listed(changes: list[dict]) -> list[dict]:
    """Subscriptions a created or changed contact's new addresses made, as its event lists
    them (`subscribed`): each as a subscription_changed would say it, with an event_id of
    its own made now, so it sorts after the event listing it."""
    return [
        {
            "event_id": new_id(),
            "channel": c["channel"],
            "status": c["status"],
            "previous": c["previous"],
            "reason": c["reason"],
        }
        for c in changes
    ]


def announce(
    session: Session, changes: list[dict], actor: str, writer: Writer | None = None
) -> None:
    writer = writer or SessionWriter(session)
    for payload in changes:
        writer.event(events.SUBSCRIPTION_CHANGED, actor, **payload)


def was_ever_subscribed(session: Session, contact_id: str, channel: str) -> bool:
    return (
        session.scalar(
            select(SubscriptionChange.id)
            .where(
                SubscriptionChange.contact_id == contact_id,
                SubscriptionChange.channel == channel,
                SubscriptionChange.status == "subscribed",
            )
            .limit(1)
        )
        is not None
    )


def set_subscription(session: Session, contact_id: str, channel: str, data, actor: str) -> dict:
    if channel not in vocab.MESSAGE_CHANNELS:
        raise NotFound("no such channel; channels are " + ", ".join(vocab.MESSAGE_CHANNELS))
    wanted = load(SubscriptionInput(), data)
    contact = contact_or_404(session, contact_id)
    status, reason = wanted["status"], wanted["reason"]
    if (
        status == "subscribed"
        and channel not in vocab.OPEN_CHANNELS
        and status_of(contact, channel) != "subscribed"
        and not was_ever_subscribed(session, contact.id, channel)
    ):
        field = f"subscriptions.{channel}"
        raise Conflict(
            f"{channel} was never subscribed: it is subscribed when the contact registers "
            f"an address for it",
            {field: ["never subscribed; cannot be subscribed by hand"]},
        )
    now = utcnow()
    changed = change(session, contact, channel, status, reason, actor, now)
    if changed:
        contact.updated_at = now
        flush(session)
        announce(session, [changed], actor)
    return resource_of(session, contact)


def subscription_history(session: Session, contact_id: str, limit: int, cursor: str | None) -> dict:
    contact = contact_or_404(session, contact_id, whole=False)
    query = select(SubscriptionChange).where(SubscriptionChange.contact_id == contact.id)
    return page(
        session, query, SubscriptionChange.id, limit, cursor, history_entry, newest_first=True
    )
