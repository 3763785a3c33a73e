"""The activity service on the bus: RPCs for the feed, its summary, one item, the export
pages and what external systems post; one consumer per source of events that turns each
batch of them into feed rows (plexus.event_consumer). Each entrypoint parses its
arguments, runs one logic function in a transaction, and returns."""

from __future__ import annotations

from nameko.timer import timer

from plexus.contract import events
from plexus.contract.services import ACTIVITY
from plexus.db import Database
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics
from plexus.outbox import OutboxRelay
from plexus.parsing import load
from plexus.rpc import Caller, answer
from plexus.timeutil import utcnow
from plexus.tracing import Tracing
from services.activity.logic import (
    bus_events,
    daily_counts,
    export,
    ingest,
    item_detail,
    partitions,
)
from services.activity.logic.feed import feed_in_period as contact_feed_in_period
from services.activity.logic.summary import summary_in_period as contact_summary_in_period
from services.activity.models import Outbox
from services.activity.ports import ContactsPort, MessagingPort
from services.activity.schemas import DailyCountsArgs, ExportPageArgs, FeedArgs, SummaryArgs

# Asking another service for a detail: short, so the gateway's own deadline (10 s) holds.
LOOKUP_TIMEOUT = 3.0


class ActivityService:
    name = ACTIVITY

    db = Database("activity")
    tracing = Tracing()  # the request's trace in logs, RPCs and events
    outbox = OutboxRelay(Outbox)
    metrics = ServiceMetrics()
    rpc = Caller(max_timeout=LOOKUP_TIMEOUT)

    def _contacts(self) -> ContactsPort:
        return ContactsPort(self.rpc)

    @answer
    def ping(self):
        return "pong"

    @answer
    def feed(
        self,
        contact_id,
        channel=None,
        origin=None,
        type=None,
        period=None,
        since=None,
        until=None,
        limit=50,
        cursor=None,
    ):
        args = load(
            FeedArgs(),
            {
                "channel": channel,
                "origin": origin,
                "type": type,
                "period": period,
                "since": since,
                "until": until,
                "limit": limit,
                "cursor": cursor,
            },
        )
        return self.db.run(contact_feed_in_period, contact_id, utcnow(), **args)

    @answer
    def summary(self, contact_id, period=None):
        args = load(SummaryArgs(), {"period": period})
        return self.db.run(contact_summary_in_period, contact_id, utcnow(), args["period"])

    @answer
    def export_page(self, contact_id, cursor=None, size=None):
        args = load(ExportPageArgs(), {"cursor": cursor, "size": size})
        return self.db.run(export.export_page, contact_id, **args)

    @answer
    def daily_counts(self, cursor=None, size=None):
        args = load(DailyCountsArgs(), {"cursor": cursor, "size": size})
        return self.db.run(daily_counts.daily_counts, **args)

    @answer
    def get_item(self, item_id):
        return self.db.run(item_detail.get_item, item_id, MessagingPort(self.rpc).get_message)

    @answer
    def record_event(self, data, actor):
        return self.db.run(ingest.record_event, data, actor, self._contacts())

    @answer
    def record_events(self, items, actor):
        return self.db.run(ingest.record_events, items, actor, self._contacts())

    @answer
    def record_order(self, data, actor):
        return self.db.run(ingest.record_order, data, actor, self._contacts())

    @on_events(events.CONTACTS)
    def on_contact_events(self, payloads):
        self.db.run(bus_events.on_contact_events, payloads)

    @on_events(events.MESSAGING)
    def on_message_events(self, payloads):
        self.db.run(bus_events.on_message_events, payloads)

    @on_events(events.SEGMENTS)
    def on_segment_events(self, payloads):
        self.db.run(bus_events.on_segment_events, payloads)

    @timer(interval=24 * 3600, eager=True)
    def make_coming_partitions(self):
        self.db.run(partitions.ensure_coming_months, utcnow().date())
