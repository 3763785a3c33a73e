"""What the activity service stores: the feed (one row per thing that happened to a
contact), the orders posted by shops (to update an order's row in place), the contacts
erased (so that late events about them are dropped), and its outbox.

On PostgreSQL the feed table is partitioned by month of occurred_at (docs/activity.md),
which migrations/versions/0001_initial.py sets up; this model is the same table seen by
the ORM, so its primary key here is `id` alone (ids are unique ULIDs either way)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import plexus.db
from plexus.ids import new_id
from plexus.outbox import OutboxRow
from plexus.timeutil import utcnow

ID = String(26)  # a ULID (plexus.ids)


class Base(plexus.db.Base):
    __abstract__ = True
    metadata = plexus.db.service_metadata()


def _moment(**kwargs) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, **kwargs)


class ActivityItem(Base):
    __tablename__ = "activity_items"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contact_id: Mapped[str] = mapped_column(ID)
    occurred_at: Mapped[datetime] = _moment()
    channel: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    # A custom event's name (segments count events by it); null for the others.
    name: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # A message item's cause, as messaging's event carried it (a campaign, a workflow);
    # null for a message sent through the API and for every other item.
    trigger: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # The event_id of the bus event this row records; null for what external systems post.
    source_event_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = _moment()

    __table_args__ = (
        # Redelivery of an event carries the same event_id and occurred_at, so this key
        # is as strict as one on source_event_id alone, and PostgreSQL allows it on a
        # table partitioned by occurred_at (a unique key must hold the partition key).
        UniqueConstraint("source_event_id", "occurred_at"),
        # One contact's feed, newest first; the keyset cursor is (occurred_at, id).
        Index("ix_activity_items_feed", "contact_id", occurred_at.desc(), id.desc()),
        # The same for one channel: the feed's tabs (email, sms, ...) and channel filters
        # whose items are rare among the contact's others.
        Index(
            "ix_activity_items_channel_feed", "contact_id", "channel", occurred_at.desc(), id.desc()
        ),
    )


class Order(Base):
    """An order posted to /v1/orders, by the shop's own id: posting it again updates its
    feed item (found by id and occurred_at, which picks its partition)."""

    __tablename__ = "orders"

    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    item_id: Mapped[str] = mapped_column(ID)
    contact_id: Mapped[str] = mapped_column(ID, index=True)
    occurred_at: Mapped[datetime] = _moment()
    updated_at: Mapped[datetime] = _moment()


class ErasedContact(Base):
    """A contact erased everywhere (contact_deleted). Events about it that arrive later
    (from messaging or segments, or redelivered) are dropped instead of recreating a
    feed. Holds the id only, which says nothing about the person."""

    __tablename__ = "erased_contacts"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    erased_at: Mapped[datetime] = _moment()


class Outbox(OutboxRow, Base):
    pass
