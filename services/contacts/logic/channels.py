"""Addresses on the channels that need one of their own: the Telegram chat, the Viber
user, browser push subscriptions. The first address of a channel subscribes it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract import events, vocab
from plexus.contract.contacts import (
    TelegramAddressInput,
    ViberAddressInput,
    WebpushSubscriptionInput,
)
from plexus.errors import Conflict, Invalid, NotFound
from plexus.parsing import load
from plexus.push_services import DEFAULT as DEFAULT_PUSH_SERVICES
from plexus.push_services import PushServices
from plexus.timeutil import utcnow
from services.contacts.logic import blacklists, suppression
from services.contacts.logic.addresses import resource_of
from services.contacts.logic.conflicts import TAKEN, flush
from services.contacts.logic.events import emit
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import channels, webpush_resource
from services.contacts.logic.subscriptions import announce, subscribe_new_addresses
from services.contacts.logic.writers import SessionWriter
from services.contacts.models import ChannelAddress, Contact, WebpushSubscription

# A browser profile has one subscription; ten cover a person's browsers and devices, and
# bound the pushes (each its own HTTP request) one message makes.
MAX_WEBPUSH_SUBSCRIPTIONS = 10

# channel: (its input schema, the field holding the address)
ADDRESSED_CHANNELS = {
    "telegram": (TelegramAddressInput, "chat_id"),
    "viber": (ViberAddressInput, "user_id"),
}


def taken(field: str) -> Conflict:
    return Conflict(f"{field} {TAKEN}", {field: [TAKEN]})


def announce_channels(
    session: Session, contact: Contact, subscribed: list[dict], actor: str
) -> None:
    emit(
        session,
        events.CONTACT_UPDATED,
        actor,
        contact_id=contact.id,
        changed={"channels": channels(contact)},
    )
    announce(session, subscribed, actor)


def set_channel_address(session: Session, contact_id: str, channel: str, data, actor: str) -> dict:
    if not isinstance(channel, str) or channel not in ADDRESSED_CHANNELS:
        raise NotFound("no such channel address; they are " + ", ".join(ADDRESSED_CHANNELS))
    schema, field = ADDRESSED_CHANNELS[channel]
    address = load(schema(), data)[field]
    contact = contact_or_404(session, contact_id)
    holder = session.scalar(
        select(ChannelAddress.contact_id).where(
            ChannelAddress.channel == channel, ChannelAddress.address == address
        )
    )
    if holder not in (None, contact.id):
        raise taken(field)
    current = next((row for row in contact.channel_addresses if row.channel == channel), None)
    if current is not None and current.address == address:
        return resource_of(session, contact)
    before = current.address if current is not None else None
    now = utcnow()
    writer = SessionWriter(session)
    if current is None:
        contact.channel_addresses.append(
            ChannelAddress(channel=channel, address=address, created_at=now, updated_at=now)
        )
    else:
        current.address, current.updated_at = address, now
    contact.updated_at = now
    with session.no_autoflush:
        # The channel's kind of address is named as the channel is (telegram, viber).
        subscribed = suppression.restore(session, contact, {channel: address}, now, writer)
        subscribed += subscribe_new_addresses(session, contact, [channel], actor, now, writer)
    flush(session, {"address": field})
    announce_channels(session, contact, subscribed, actor)
    blacklists.moves(contact, {channel: before}, actor, writer)
    return resource_of(session, contact)


def add_webpush_subscription(
    session: Session, contact_id: str, data, actor: str, push_services: PushServices | None = None
) -> dict:
    """Register a browser; registering the same endpoint again refreshes its keys. The
    endpoint must be on an allowed push service (plexus.push_services)."""
    wanted = load(WebpushSubscriptionInput(), data)
    push_services = push_services or PushServices.parse(DEFAULT_PUSH_SERVICES)
    refusal = push_services.refusal(wanted["endpoint"])
    if refusal:
        raise Invalid(f"endpoint {refusal}", {"endpoint": [refusal]})
    contact = contact_or_404(session, contact_id)
    subscription = session.scalar(
        select(WebpushSubscription).where(WebpushSubscription.endpoint == wanted["endpoint"])
    )
    if subscription is not None and subscription.contact_id != contact.id:
        raise taken("endpoint")
    keys = wanted["keys"]
    now = utcnow()
    if subscription is None:
        if len(contact.webpush_subscriptions) >= MAX_WEBPUSH_SUBSCRIPTIONS:
            message = (
                f"a contact has at most {MAX_WEBPUSH_SUBSCRIPTIONS} push "
                "subscriptions; remove one first"
            )
            raise Invalid(message, {"endpoint": [message]})
        subscription = WebpushSubscription(
            endpoint=wanted["endpoint"],
            device=wanted["device"],
            p256dh=keys["p256dh"],
            auth=keys["auth"],
            created_at=now,
        )
        contact.webpush_subscriptions.append(subscription)
    elif (subscription.device, subscription.p256dh, subscription.auth) == (
        wanted["device"],
        keys["p256dh"],
        keys["auth"],
    ):
        return webpush_resource(subscription)
    else:
        subscription.device, subscription.p256dh, subscription.auth = (
            wanted["device"],
            keys["p256dh"],
            keys["auth"],
        )
    contact.updated_at = now
    subscribed = subscribe_new_addresses(
        session, contact, [f"webpush_{wanted['device']}"], actor, now
    )
    flush(session, {"endpoint": "endpoint"})
    announce_channels(session, contact, subscribed, actor)
    return webpush_resource(subscription)


def webpush_subscriptions(
    session: Session, contact_id: str, device: str | None = None
) -> list[dict]:
    """The contact's push subscriptions with their encryption keys, oldest first, for the
    webpush sender only: the keys never appear in the public contact resource."""
    if device is not None and device not in vocab.WEBPUSH_DEVICES:
        raise Invalid("no such device", {"device": ["one of " + ", ".join(vocab.WEBPUSH_DEVICES)]})
    contact = contact_or_404(session, contact_id, whole=False)
    query = select(WebpushSubscription).where(WebpushSubscription.contact_id == contact.id)
    if device is not None:
        query = query.where(WebpushSubscription.device == device)
    return [
        {
            "id": sub.id,
            "device": sub.device,
            "endpoint": sub.endpoint,
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
        }
        for sub in session.scalars(query.order_by(WebpushSubscription.id))
    ]


def remove_webpush_subscription(
    session: Session, contact_id: str, subscription_id: str, actor: str
) -> None:
    contact = contact_or_404(session, contact_id)
    subscription = next(
        (sub for sub in contact.webpush_subscriptions if sub.id == subscription_id), None
    )
    if subscription is None:
        raise NotFound("no such push subscription")
    contact.webpush_subscriptions.remove(subscription)
    contact.updated_at = utcnow()
    flush(session)
    announce_channels(session, contact, [], actor)
