"""What the contacts service stores: contacts and everything hanging off them
(subscriptions and their ledger, channel addresses, notes), the account's black lists of
addresses and the suppression records erased contacts left, the variable definitions,
sources and categories, and its outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import plexus.db
from plexus.ids import new_id
from plexus.outbox import OutboxRow
from plexus.timeutil import utcnow

ID = String(26)  # a ULID (plexus.ids)


class Base(plexus.db.Base):
    __abstract__ = True
    metadata = plexus.db.service_metadata()


def _moment() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow)


def _contact_ref(**kwargs) -> Mapped[str]:
    return mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), **kwargs)


class BlacklistEntry(Base):
    """An address on one of the account's black lists (email, phone, viber), whether or
    not a contact has it: a contact is listed while its current address is here. Values
    are normalised as the contact's own addresses are (an email lower-cased, E.164)."""

    __tablename__ = "blacklist_entries"

    list: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    added_at: Mapped[datetime] = _moment()
    reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))


class SuppressedAddress(Base):
    """What an erased contact leaves of an address that was black-listed or unsubscribed:
    its keyed hash (HMAC-SHA256 under the suppression secret), never the address, and
    which of the two it was. A contact that later takes the address starts so again."""

    __tablename__ = "suppressed_addresses"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # email phone viber telegram
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    unsubscribed: Mapped[bool] = mapped_column(Boolean)
    blacklisted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = _moment()


class Subscription(Base):
    """The current state of one channel; channels without a row are "never"."""

    __tablename__ = "subscriptions"
    # The contacts list's `subscribed` filter.
    __table_args__ = (Index(None, "channel", "status"),)

    contact_id: Mapped[str] = _contact_ref(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = _moment()
    reason: Mapped[str | None] = mapped_column(String(500))


class SubscriptionChange(Base):
    """The consent ledger: every change of a subscription, who made it and why."""

    __tablename__ = "subscription_history"
    __table_args__ = (
        Index(None, "contact_id", "channel", "status"),
        Index(None, "contact_id", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = _contact_ref()
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = _moment()


class ChannelAddress(Base):
    """Where the contact is reached on a channel that needs an address of its own:
    the Telegram chat id, the Viber user id. One address belongs to one contact."""

    __tablename__ = "channel_addresses"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    contact_id: Mapped[str] = _contact_ref(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()


class WebpushSubscription(Base):
    __tablename__ = "webpush_subscriptions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = _contact_ref(index=True)
    device: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = _moment()


class AppPushToken(Base):
    """A mobile app's device token (FCM registration token): one device of the contact's
    on the app_push channel. One token belongs to one contact."""

    __tablename__ = "app_push_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = _contact_ref(index=True)
    token: Mapped[str] = mapped_column(String(1024), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    app: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = _moment()


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (Index(None, "contact_id", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = _contact_ref()
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = _moment()


def _children(model, **kwargs):
    return relationship(model, cascade="all, delete-orphan", passive_deletes=True, **kwargs)


class Contact(Base):
    __tablename__ = "contacts"
    # The contacts list's filters (logic/reading.py): by status, newest first; by a name
    # prefix in any case (text_pattern_ops: PostgreSQL's LIKE 'x%' uses the index under
    # any collation).
    __table_args__ = (
        Index(None, "status", "id"),
        Index(
            "ix_contacts_lower_first_name",
            func.lower(text("first_name")).label("lower_first_name"),
            postgresql_ops={"lower_first_name": "text_pattern_ops"},
        ),
        Index(
            "ix_contacts_lower_last_name",
            func.lower(text("last_name")).label("lower_last_name"),
            postgresql_ops={"lower_last_name": "text_pattern_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[int] = mapped_column(SmallInteger, default=0)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    address: Mapped[dict | None] = mapped_column(JSON)
    categories: Mapped[dict] = mapped_column(JSON, default=dict)
    contact_score: Mapped[float] = mapped_column(Float, default=0.0)
    variables: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # How it arrived (vocab.CREATED_VIA): set once, at its creation.
    created_via: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    created_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()

    subscriptions: Mapped[list[Subscription]] = _children(Subscription)
    channel_addresses: Mapped[list[ChannelAddress]] = _children(ChannelAddress)
    webpush_subscriptions: Mapped[list[WebpushSubscription]] = _children(
        WebpushSubscription, order_by=WebpushSubscription.id
    )
    app_push_tokens: Mapped[list[AppPushToken]] = _children(AppPushToken, order_by=AppPushToken.id)
    notes: Mapped[list[Note]] = _children(Note, order_by=Note.id)
    subscription_history: Mapped[list[SubscriptionChange]] = _children(SubscriptionChange)


class VariableDefinition(plexus.db.Authored, Base):
    __tablename__ = "variable_definitions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    value: Mapped[object | None] = mapped_column(JSON)  # account variables only
    created_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()


class Source(plexus.db.Authored, Base):
    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = _moment()


class Category(plexus.db.Authored, Base):
    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _moment()


class Outbox(OutboxRow, Base):
    pass
