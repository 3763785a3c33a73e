"""Rows as the API shows them (plexus.contract.contacts documents
each shape). Times are RFC 3339 UTC, dates YYYY-MM-DD."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from plexus.contract import vocab
from plexus.timeutil import rfc3339, utcnow
from services.contacts.models import (
    AppPushToken,
    BlacklistEntry,
    Category,
    Contact,
    Note,
    Source,
    SubscriptionChange,
    VariableDefinition,
    WebpushSubscription,
)

# What the contact resource shows of an app push token (its `channels.app_push`).
APP_PUSH_SHOWN = ("id", "platform", "app", "token")

# The fields a client writes, in the order the resource lists them.
PROFILE_FIELDS = (
    "user_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "gender",
    "language",
    "timezone",
    "source",
    "avatar_url",
    "address",
    "categories",
    "contact_score",
    "variables",
)


def shown(field: str, value):
    """A profile field's stored value as the resource shows it."""
    if field == "birthday":  # a date, or SQLite's text of one (reading.py)
        return value if isinstance(value, str) or value is None else value.isoformat()
    if field in ("categories", "variables"):
        return dict(value or {})
    if field == "address":
        return dict(value) if value else None
    if field == "contact_score":
        return float(value or 0)
    return value


def field_value(contact: Contact, field: str):
    return shown(field, getattr(contact, field))


def moment(value: datetime | str | None) -> str | None:
    """RFC 3339 of a stored time: a datetime, or the text a database put into JSON
    (SQLite's `2026-11-23 13:05:10.123456`, PostgreSQL's ISO form with an offset)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return rfc3339(value)


def age(birthday: date | str | None, today: date | None = None) -> int | None:
    """Whole years since `birthday` (a date or its text), today in UTC; None without one.
    Computed when read, so it is never stale. Born on 29 February: a year older on
    1 March in a year without one."""
    if birthday is None:
        return None
    born = date.fromisoformat(birthday) if isinstance(birthday, str) else birthday
    today = today or utcnow().date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# The collections below take rows as mappings of their columns: ORM objects turned into
# dicts (the write path) or the JSON one statement aggregates (the read path, reading.py).


def blacklists_shown(entries: Iterable[Mapping]) -> dict:
    """`entries`: {"list", "since", "reason"} of each list the contact's current address
    of that list is on (addresses.KnownAddresses.blacklisted, reading.py)."""
    listed = {entry["list"]: entry for entry in entries}
    return {
        name: (
            {"since": moment(listed[name]["since"]), "reason": listed[name]["reason"]}
            if name in listed
            else None
        )
        for name in vocab.BLACKLISTS
    }


def subscriptions_shown(rows: Iterable[Mapping]) -> dict:
    by_channel = {row["channel"]: row for row in rows}
    return {
        channel: (
            {
                "status": row["status"],
                "changed_at": moment(row["changed_at"]),
                "reason": row["reason"],
            }
            if (row := by_channel.get(channel))
            else {"status": "never", "changed_at": None, "reason": None}
        )
        for channel in vocab.MESSAGE_CHANNELS
    }


def channels_shown(
    addresses: Iterable[Mapping], webpush: Iterable[Mapping], app_push: Iterable[Mapping] = ()
) -> dict:
    """`webpush` and `app_push` in id order (the order they were registered)."""
    by_channel = {row["channel"]: row["address"] for row in addresses}
    return {
        "telegram": {"chat_id": by_channel["telegram"]} if "telegram" in by_channel else None,
        "viber": {"user_id": by_channel["viber"]} if "viber" in by_channel else None,
        "webpush": [
            {"id": sub["id"], "device": sub["device"], "endpoint": sub["endpoint"]}
            for sub in webpush
        ],
        "app_push": [{name: row[name] for name in APP_PUSH_SHOWN} for row in app_push],
    }


def assemble(
    columns: Mapping,
    blacklisted: Iterable[Mapping],
    subscribed: Iterable[Mapping],
    addresses: Iterable[Mapping],
    webpush: Iterable[Mapping],
    app_push: Iterable[Mapping] = (),
) -> dict:
    """The contact resource from its own columns and its five collections."""
    return {
        "id": columns["id"],
        **{field: shown(field, columns[field]) for field in PROFILE_FIELDS},
        "age": age(columns["birthday"]),
        "status": columns["status"],
        "created_via": columns["created_via"],
        "blacklists": blacklists_shown(blacklisted),
        "subscriptions": subscriptions_shown(subscribed),
        "channels": channels_shown(addresses, webpush, app_push),
        "created_at": moment(columns["created_at"]),
        "updated_at": moment(columns["updated_at"]),
    }


def _rows(objects, *names: str) -> list[dict]:
    return [{name: getattr(row, name) for name in names} for row in objects]


def channels(contact: Contact) -> dict:
    """The `channels` part of a contact the ORM holds."""
    return channels_shown(
        _rows(contact.channel_addresses, "channel", "address"),
        _rows(contact.webpush_subscriptions, "id", "device", "endpoint"),
        _rows(contact.app_push_tokens, *APP_PUSH_SHOWN),
    )


def contact_resource(contact: Contact, blacklisted: Iterable[Mapping]) -> dict:
    """The resource of a contact the ORM holds (after a write, in its transaction), on
    the black lists `blacklisted` says (blacklists.shown gives both)."""
    columns = {
        name: getattr(contact, name)
        for name in ("id", *PROFILE_FIELDS, "status", "created_via", "created_at", "updated_at")
    }
    return assemble(
        columns,
        blacklisted,
        _rows(contact.subscriptions, "channel", "status", "changed_at", "reason"),
        _rows(contact.channel_addresses, "channel", "address"),
        _rows(contact.webpush_subscriptions, "id", "device", "endpoint"),
        _rows(contact.app_push_tokens, *APP_PUSH_SHOWN),
    )


def entry_resource(entry: BlacklistEntry) -> dict:
    return {
        "value": entry.value,
        "added_at": rfc3339(entry.added_at),
        "reason": entry.reason,
        "source": entry.source,
    }


def app_push_resource(token: AppPushToken) -> dict:
    return {
        **{name: getattr(token, name) for name in APP_PUSH_SHOWN},
        "created_at": rfc3339(token.created_at),
    }


def webpush_resource(subscription: WebpushSubscription) -> dict:
    return {
        "id": subscription.id,
        "device": subscription.device,
        "endpoint": subscription.endpoint,
        "created_at": rfc3339(subscription.created_at),
    }


def note_resource(note: Note) -> dict:
    return {
        "id": note.id,
        "content": note.content,
        "author": note.author,
        "created_at": rfc3339(note.created_at),
    }


def history_entry(change: SubscriptionChange) -> dict:
    return {
        "id": change.id,
        "channel": change.channel,
        "status": change.status,
        "previous_status": change.previous_status,
        "reason": change.reason,
        "actor": change.actor,
        "changed_at": rfc3339(change.changed_at),
    }


def variable_resource(definition: VariableDefinition) -> dict:
    return {
        "name": definition.name,
        "type": definition.type,
        "scope": definition.scope,
        "value": definition.value,
        "created_at": rfc3339(definition.created_at),
        "updated_at": rfc3339(definition.updated_at),
        **definition.authorship(),
    }


def source_resource(source: Source) -> dict:
    return {"name": source.name, "created_at": rfc3339(source.created_at), **source.authorship()}


def category_resource(category: Category) -> dict:
    return {
        "name": category.name,
        "description": category.description,
        "created_at": rfc3339(category.created_at),
        **category.authorship(),
    }
