"""What the messaging service stores: templates, messages with their status history,
and two outboxes: events for everyone, deliveries for the channel senders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
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


class Template(plexus.db.Authored, Base):
    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    # {language: {"subject"?, "body"}}: the contact's language picks one at render time.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()


class StatusChange(Base):
    """One line of a message's history: queued, sent, delivered, open, click..."""

    __tablename__ = "message_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = _moment()
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index(None, "contact_id"), Index(None, "provider_id"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str | None] = mapped_column(ID)
    resend_of: Mapped[str | None] = mapped_column(ID)
    # Null for the business's messages; `confirmation` for a subscription form's
    # confirmation email, which may go to an address not yet subscribed (eligibility).
    purpose: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict] = mapped_column(JSON)  # as rendered, before tracking
    # The caller's key for the message it means (queue_batch: a campaign's
    # "campaign:<id>:<contact>"): the same key again finds this message, queues nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # What caused it ({"campaign_id", "variant"?}, {"workflow_id", "run_id", ...}); null
    # for a message sent directly through the API.
    trigger: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # Queued in the contact's quiet hours: its delivery waits until then (the release
    # timer, logic/holds.py, hands it to its sender and clears this).
    held_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(255))
    # When a sent web push or Viber message that has not been `delivered` by then is
    # `expired` (its TTL after `sent`); cleared by any later status and by the expiry timer
    # (logic/expiry.py), so the timer reads only what is due.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()

    history: Mapped[list[StatusChange]] = relationship(
        StatusChange, cascade="all, delete-orphan", passive_deletes=True, order_by=StatusChange.id
    )


class SettingsRow(Base):
    """The messaging settings (one row, id 1): frequency caps and quiet hours, applied
    when a campaign, A/B test or workflow message is queued (logic/limits.py)."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frequency_caps: Mapped[list] = mapped_column(JSON)
    quiet_hours: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    default_timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = _moment()
    updated_by: Mapped[str] = mapped_column(String(200))  # the actor of the last PUT


class RateBucket(Base):
    """A sender's provider rate limit, shared by all its processes (logic/rate_buckets.py):
    a token bucket kept as the moment its next send may go. UNLOGGED on PostgreSQL
    (migration 0008 says why)."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # the sender: `email`
    # Seconds since the epoch (messaging's clock): double precision keeps microseconds.
    next_free: Mapped[float] = mapped_column(Double)


class Outbox(OutboxRow, Base):
    """Events (plexus.contract.events) for any service."""


class DeliveryOutbox(OutboxRow, Base):
    """Deliveries for the channel senders: `event_type` is the routing key (the channel),
    published to plexus.messages after the commit like any event."""

    __tablename__ = "delivery_outbox"
