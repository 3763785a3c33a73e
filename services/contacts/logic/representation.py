"""Rows as the API shows them (API.md "Contacts"; plexus.contract.contacts documents
each shape). Times are RFC 3339 UTC, dates YYYY-MM-DD."""

from __future__ import annotations

from plexus.contract import vocab
from plexus.timeutil import rfc3339
from services.contacts.models import (
    Category,
    Contact,
    Note,
    Source,
    SubscriptionChange,
    VariableDefinition,
    WebpushSubscription,
)

# The fields a client writes, in the order the resource lists them.
PROFILE_FIELDS = (
    "user_id", "email", "phone", "first_name", "last_name", "birthday", "gender", "language",
    "timezone", "source", "avatar_url", "address", "categories", "contact_score", "variables",
)


def field_value(contact: Contact, field: str):
    value = getattr(contact, field)
    if field == "birthday":
        return value.isoformat() if value else None
    if field in ("categories", "variables"):
        return dict(value or {})
    if field == "address":
        return dict(value) if value else None
    if field == "contact_score":
        return float(value or 0)
    return value


def blacklists(contact: Contact) -> dict:
    listed = {entry.list: entry for entry in contact.blacklists}
    return {
        name: ({"since": rfc3339(listed[name].since), "reason": listed[name].reason}
               if name in listed else None)
        for name in vocab.BLACKLISTS
    }


def subscriptions(contact: Contact) -> dict:
    rows = {row.channel: row for row in contact.subscriptions}
    never = {"status": "never", "changed_at": None, "reason": None}
    return {
        channel: ({"status": rows[channel].status, "changed_at": rfc3339(rows[channel].changed_at),
                   "reason": rows[channel].reason} if channel in rows else dict(never))
        for channel in vocab.MESSAGE_CHANNELS
    }


def channels(contact: Contact) -> dict:
    addresses = {row.channel: row.address for row in contact.channel_addresses}
    return {
        "telegram": {"chat_id": addresses["telegram"]} if "telegram" in addresses else None,
        "viber": {"user_id": addresses["viber"]} if "viber" in addresses else None,
        "webpush": [{"id": sub.id, "device": sub.device, "endpoint": sub.endpoint}
                    for sub in contact.webpush_subscriptions],
    }


def contact_resource(contact: Contact) -> dict:
    return {
        "id": contact.id,
        **{field: field_value(contact, field) for field in PROFILE_FIELDS},
        "status": contact.status,
        "blacklists": blacklists(contact),
        "subscriptions": subscriptions(contact),
        "channels": channels(contact),
        "created_at": rfc3339(contact.created_at),
        "updated_at": rfc3339(contact.updated_at),
    }


def webpush_resource(subscription: WebpushSubscription) -> dict:
    return {"id": subscription.id, "device": subscription.device,
            "endpoint": subscription.endpoint, "created_at": rfc3339(subscription.created_at)}


def note_resource(note: Note) -> dict:
    return {"id": note.id, "content": note.content, "author": note.author,
            "created_at": rfc3339(note.created_at)}


def history_entry(change: SubscriptionChange) -> dict:
    return {"id": change.id, "channel": change.channel, "status": change.status,
            "previous_status": change.previous_status, "reason": change.reason,
            "actor": change.actor, "changed_at": rfc3339(change.changed_at)}


def variable_resource(definition: VariableDefinition) -> dict:
    return {"name": definition.name, "type": definition.type, "scope": definition.scope,
            "value": definition.value, "created_at": rfc3339(definition.created_at),
            "updated_at": rfc3339(definition.updated_at)}


def source_resource(source: Source) -> dict:
    return {"name": source.name, "created_at": rfc3339(source.created_at)}


def category_resource(category: Category) -> dict:
    return {"name": category.name, "description": category.description,
            "created_at": rfc3339(category.created_at)}
