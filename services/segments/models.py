"""What the segments service stores: the definitions, the membership, and its own
projection of what rules read (contacts' fields, flags and variables; activity counted
per contact, day, channel, type, name and origin), fed by events (logic/projection.py).

Flags and variables are rows, not JSON, so that every rule compiles to the same plain
SQL on SQLite and PostgreSQL (logic/compiler.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

import plexus.db
from plexus.ids import new_id
from plexus.outbox import OutboxRow
from plexus.seen_events import SeenEventColumns
from plexus.timeutil import utcnow

ID = String(26)
TEXT = String(1000)


class Base(plexus.db.Base):
    __abstract__ = True
    metadata = plexus.db.service_metadata()


class SegmentDef(plexus.db.Authored, Base):
    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    rule: Mapped[dict] = mapped_column(JSON)
    # One more at each change of the rule: what a member entered under.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The rule uses an operator that changes with the clock (the periodic pass).
    time_based: Mapped[bool] = mapped_column(Boolean, default=False)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dependency(Base):
    """The index from what changed (a contact field, "subscriptions", "activity"...) to
    the segments whose rules read it: an event re-checks only those."""

    __tablename__ = "segment_dependencies"

    kind: Mapped[str] = mapped_column(String(120), primary_key=True)
    segment_id: Mapped[str] = mapped_column(ID, primary_key=True)


class Membership(Base):
    __tablename__ = "memberships"

    segment_id: Mapped[str] = mapped_column(ID, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_memberships_contact_id", "contact_id"),)


class Profile(Base):
    """A contact as the rules see it: one column per field a rule may test."""

    __tablename__ = "profiles"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    birthday: Mapped[date | None] = mapped_column(Date)
    # "MM-DD" of the birthday: birthday_in_days is a set query on it.
    birthday_md: Mapped[str | None] = mapped_column(String(5), index=True)
    gender: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(20))
    contact_score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Flag(Base):
    """One row per thing a contact has: kind subscribed (key a channel), blacklisted
    (key a list) or category (key a category opted in to)."""

    __tablename__ = "profile_flags"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_profile_flags_kind_key", "kind", "key"),)


class Variable(Base):
    """A contact's custom variable: as text (strings, dates, booleans "true"/"false",
    numbers) and, for numbers, as a number too."""

    __tablename__ = "profile_variables"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_value: Mapped[str | None] = mapped_column(TEXT)
    number_value: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_profile_variables_name", "name"),)


class ActivityCount(Base):
    """How many activity items a contact had on a day, per channel, type, name and
    origin ("" for none: part of the key)."""

    __tablename__ = "activity_counts"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    origin: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SeenEvent(SeenEventColumns, Base):
    """event_ids already applied (plexus.seen_events)."""


class ErasedContact(Base):
    """A contact erased (contact_deleted): late events about it are dropped."""

    __tablename__ = "erased_contacts"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)


class Outbox(OutboxRow, Base):
    pass
