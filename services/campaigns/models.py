"""What the campaigns service stores: the campaigns, their recipients (one row per member,
written when the campaign starts, holding what became of its message), the counters
behind `stats`, and the event ids already applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

import plexus.db
from plexus.ids import new_id
from plexus.seen_events import SeenEventColumns
from plexus.timeutil import utcnow

ID = String(26)


class Base(plexus.db.Base):
    __abstract__ = True
    metadata = plexus.db.service_metadata()


class Campaign(plexus.db.Authored, Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[str] = mapped_column(ID)
    segment_id: Mapped[str] = mapped_column(ID)
    category: Mapped[str | None] = mapped_column(String(64))
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    local_time: Mapped[str | None] = mapped_column(String(5))
    throttle_per_minute: Mapped[int | None] = mapped_column(Integer)
    ab: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    winner: Mapped[str | None] = mapped_column(String(100))
    # Reading the audience: the segment's members cursor reached so far (a restart goes
    # on from it), and whether it is done; `audience` is set when it is.
    loading: Mapped[bool] = mapped_column(default=False)
    audience_cursor: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[int | None] = mapped_column(Integer)
    # When the members' moments are counted from (the start, or schedule.at), and for an
    # A/B test when the winner is chosen (base + wait_hours).
    base_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decide_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recipient(Base):
    """One member of the audience. `status`: held / pending / queued / refused (what
    the dispatcher did); `delivery`: what the message did since (messaging's events);
    the flags count an open, a click, an unsubscription once per recipient."""

    __tablename__ = "recipients"

    campaign_id: Mapped[str] = mapped_column(ID, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    variant: Mapped[str | None] = mapped_column(String(100))
    # A hash of campaign and contact: the A/B split's order (the same at every re-run).
    rank: Mapped[int] = mapped_column(BigInteger, default=0)
    timezone: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(32))
    delivery: Mapped[str | None] = mapped_column(String(16))
    opened: Mapped[bool] = mapped_column(default=False)
    clicked: Mapped[bool] = mapped_column(default=False)
    unsubscribed: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        # The dispatcher's claim: a campaign's pending rows in (due_at, contact_id) order,
        # read from the index rather than sorted at every chunk.
        Index(
            "ix_recipients_campaign_id_status_due_at_contact_id",
            "campaign_id",
            "status",
            "due_at",
            "contact_id",
        ),
        Index("ix_recipients_campaign_id_dispatched_at", "campaign_id", "dispatched_at"),
        Index("ix_recipients_contact_id", "contact_id"),
    )


class Counter(Base):
    """The numbers behind `stats`, added to as things happen (never counted per read):
    `queued`, `refused.<reason>`, `sent`, `open`...; an A/B variant's own as
    `<variant>/sent`, `<variant>/open`, `<variant>/click`."""

    __tablename__ = "campaign_counters"

    campaign_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SeenEvent(SeenEventColumns, Base):
    """event_ids already applied (plexus.seen_events)."""


class Workflow(plexus.db.Authored, Base):
    """A workflow: its trigger and steps as the API gave them (checked at write)."""

    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[dict] = mapped_column(JSON)
    # What the trigger matches on, for the consumers' look-up: "contact_added",
    # "event:<name>", "segment_entered:<id>", "date_field:birthday".
    trigger_key: Mapped[str] = mapped_column(String(140), index=True)
    steps: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    """One contact's way through a workflow. `step` is the path of the step to run next
    (null once over), `due_at` when (the timer claims runs whose moment came); `live`
    holds the contact id while the run is under way and null after, so that the unique
    (workflow_id, live) allows one run under way per contact and any number over."""

    __tablename__ = "workflow_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workflow_id: Mapped[str] = mapped_column(ID)
    contact_id: Mapped[str] = mapped_column(ID)
    live: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16), default="active")
    step: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # {"event_id" | "segment_id" | "date_field": ...}: the messages' trigger.cause.
    cause: Mapped[dict] = mapped_column(JSON)
    history: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("workflow_id", "live"),
        # The timer's claim: runs under way whose moment came, oldest first.
        Index(
            "ix_workflow_runs_live_due_at",
            "due_at",
            postgresql_where=text("live IS NOT NULL"),
            sqlite_where=text("live IS NOT NULL"),
        ),
        Index("ix_workflow_runs_workflow_id_contact_id", "workflow_id", "contact_id"),
        Index("ix_workflow_runs_contact_id", "contact_id"),
    )


class ContactDate(Base):
    """What a date_field trigger reads of a contact, kept from contacts' events: the
    birthday's month and day ("MM-DD") and the contact's time zone."""

    __tablename__ = "contact_dates"

    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    birthday: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_contact_dates_birthday_timezone", "birthday", "timezone"),)
