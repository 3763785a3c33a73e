"""The segments service on the bus: RPCs for the definitions, their members, preview and
explain; a consumer each for contacts' and activity's events, which keep the projection
and membership up to date a batch at a time (plexus.event_consumer); a timer for what
changes with the clock. Each entrypoint parses its arguments, runs one logic function in
a transaction, and returns."""

from __future__ import annotations

from plexus.contract import events
from plexus.contract.services import SEGMENTS
from plexus.db import Database
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics
from plexus.outbox import OutboxRelay
from plexus.paging import PageArgs
from plexus.parsing import load
from plexus.rpc import Caller, answer
from plexus.settings import Settings
from plexus.timers import configured_timer
from plexus.timeutil import utcnow
from plexus.tracing import Tracing
from services.segments.logic import definitions, inspection, periodic, projection
from services.segments.logic.compiler import Clock
from services.segments.models import Outbox
from services.segments.ports import ContactsPort
from services.segments.priority import CpuPriority
from services.segments.schemas import ExplainArgs
from services.segments.settings import PASS_SECONDS, load_settings

LOOKUP_TIMEOUT = 3.0


class SegmentsService:
    name = SEGMENTS

    db = Database("segments")
    tracing = Tracing()  # the request's trace in logs, RPCs and events
    outbox = OutboxRelay(Outbox)
    metrics = ServiceMetrics()
    rpc = Caller(max_timeout=LOOKUP_TIMEOUT)
    settings = Settings(load_settings)
    priority = CpuPriority()

    def _contacts(self) -> ContactsPort:
        return ContactsPort(self.rpc)

    @answer
    def ping(self):
        return "pong"

    @answer
    def list_segments(self, limit=None, cursor=None):
        args = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(definitions.list_segments, **args)

    @answer
    def create_segment(self, data, actor):
        return self.db.run(
            definitions.create_segment,
            data,
            actor,
            Clock(utcnow()),
            self.settings.query_timeout_seconds,
        )

    @answer
    def get_segment(self, segment_id):
        return self.db.run(definitions.read_segment, segment_id)

    @answer
    def update_segment(self, segment_id, data, actor):
        return self.db.run(
            definitions.update_segment,
            segment_id,
            data,
            actor,
            Clock(utcnow()),
            self.settings.query_timeout_seconds,
        )

    @answer
    def delete_segment(self, segment_id, actor):
        return self.db.run(definitions.delete_segment, segment_id, actor)

    @answer
    def members(self, segment_id, limit=None, cursor=None):
        args = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(definitions.members, segment_id, **args)

    @answer
    def contact_segments(self, contact_id):
        return self.db.run(definitions.contact_segments, contact_id)

    @answer
    def preview(self, data):
        rule = definitions.read_rule(data)
        return self.db.run(
            inspection.preview, rule, Clock(utcnow()), self.settings.query_timeout_seconds
        )

    @answer
    def check_rule(self, data):
        """{"rule"} checked as preview checks it: 422 naming the paths, else True."""
        definitions.read_rule(data)
        return True

    @answer
    def matches(self, data, contact_id):
        """Whether {"rule"} holds for the contact now (checked as preview checks it)."""
        rule = definitions.read_rule(data)
        return self.db.run(inspection.matches, rule, contact_id, Clock(utcnow()))

    @answer
    def explain(self, segment_id, contact_id=None):
        args = load(ExplainArgs(), {"contact_id": contact_id})
        return self.db.run(inspection.explain, segment_id, args["contact_id"], Clock(utcnow()))

    @on_events(events.CONTACTS)
    def on_contact_events(self, payloads):
        self.db.run(
            projection.on_contact_events, payloads, self._contacts().get_contact, Clock(utcnow())
        )

    @on_events(events.ACTIVITY)
    def on_activity_events(self, payloads):
        self.db.run(projection.on_activity_events, payloads, Clock(utcnow()))

    @configured_timer("SEGMENTS", "periodic_pass_seconds", PASS_SECONDS)
    def periodic_pass(self):
        periodic.periodic_pass(
            self.db.transaction, Clock(utcnow()), self.settings.pass_timeout_seconds
        )
