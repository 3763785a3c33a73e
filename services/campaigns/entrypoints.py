"""The campaigns service on the bus: RPCs for the campaigns and their recipients; a
timer that reads started campaigns' audiences, and one that dispatches due recipients
to messaging (docs/development.md); a consumer of messaging's events for the stats, and of
contacts' for erasure. Each entrypoint parses its arguments, runs one logic function,
and returns."""

from __future__ import annotations

from plexus import clock
from plexus.contract import events
from plexus.contract.services import CAMPAIGNS as NAME
from plexus.db import Database
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics, counter, gauge
from plexus.paging import PageArgs
from plexus.parsing import load
from plexus.rpc import Caller, answer
from plexus.settings import Settings
from plexus.timers import configured_timer
from plexus.tracing import Tracing
from services.campaigns.logic import (
    dates,
    definitions,
    dispatch,
    feedback,
    recipients,
    runs,
    starting,
    subject,
    triggers,
    workflows,
)
from services.campaigns.ports import ContactsPort, MessagingPort, SegmentsPort
from services.campaigns.schemas import RecipientArgs, RunArgs
from services.campaigns.settings import DATE_CHECK_SECONDS, DISPATCH_SECONDS, load_settings

# Looks-ups at create answer within the gateway's deadline; queue_batch gets the whole.
LOOKUP_TIMEOUT = 3.0

QUEUED = counter("plexus_campaigns_messages_queued_total", "Campaign messages messaging queued.")
REFUSED = counter(
    "plexus_campaigns_messages_refused_total",
    "Campaign members messaging refused, by reason.",
    ["reason"],
)
CAMPAIGNS = gauge("plexus_campaigns_campaigns", "Campaigns by status.", ["status"])
DUE = gauge(
    "plexus_campaigns_due_recipients",
    "Recipients of running campaigns whose moment came, not yet handed to messaging.",
)
RUNS_STARTED = counter("plexus_workflow_runs_started_total", "Workflow runs started.")
RUNS_ADVANCED = counter(
    "plexus_workflow_runs_advanced_total", "Workflow runs moved on by a step (or more)."
)
RUNS_DUE = gauge(
    "plexus_workflow_runs_due",
    "Workflow runs under way whose moment came, not yet moved on (the timer's backlog).",
)


class CampaignsService:
    name = NAME

    db = Database(NAME)
    metrics = ServiceMetrics()
    rpc = Caller()
    settings = Settings(load_settings)
    tracing = Tracing()  # the request's trace in logs, RPCs and events

    def _lookups(self) -> tuple[MessagingPort, SegmentsPort]:
        def call(service, method, *args, **kwargs):
            return self.rpc(service, method, *args, timeout=LOOKUP_TIMEOUT, **kwargs)

        return MessagingPort(call), SegmentsPort(call)

    @answer
    def ping(self):
        return "pong"

    @answer
    def list_campaigns(self, limit=None, cursor=None):
        args = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(definitions.list_campaigns, **args)

    @answer
    def create_campaign(self, data, actor):
        return definitions.new_campaign(self.db.transaction, data, *self._lookups(), actor)

    @answer
    def get_campaign(self, campaign_id):
        return self.db.run(definitions.read_campaign, campaign_id)

    @answer
    def update_campaign(self, campaign_id, data, actor):
        return definitions.change_campaign(
            self.db.transaction, campaign_id, data, *self._lookups(), actor
        )

    @answer
    def delete_campaign(self, campaign_id, actor):
        return self.db.run(definitions.delete_campaign, campaign_id, actor)

    @answer
    def act(self, campaign_id, action, actor):
        return self.db.run(starting.act, campaign_id, action, clock.now(), actor)

    @answer
    def recipients(self, campaign_id, status=None, limit=None, cursor=None):
        args = load(RecipientArgs(), {"status": status, "limit": limit, "cursor": cursor})
        return self.db.run(recipients.list_recipients, campaign_id, **args)

    @answer
    def list_workflows(self, limit=None, cursor=None):
        args = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(workflows.list_workflows, **args)

    @answer
    def create_workflow(self, data, actor):
        return workflows.new_workflow(self.db.transaction, data, *self._lookups(), actor)

    @answer
    def get_workflow(self, workflow_id):
        return self.db.run(workflows.read_workflow, workflow_id)

    @answer
    def update_workflow(self, workflow_id, data, actor):
        return workflows.change_workflow(
            self.db.transaction, workflow_id, data, *self._lookups(), actor
        )

    @answer
    def delete_workflow(self, workflow_id, actor):
        return self.db.run(workflows.delete_workflow, workflow_id, actor)

    @answer
    def act_workflow(self, workflow_id, action, actor):
        return self.db.run(workflows.act, workflow_id, action, actor)

    @answer
    def contact_campaigns(self, contact_id, cursor=None):
        return self.db.run(subject.contact_campaigns, contact_id, cursor)

    @answer
    def contact_runs(self, contact_id, cursor=None):
        return self.db.run(subject.contact_runs, contact_id, cursor)

    @answer
    def workflow_runs(self, workflow_id, contact_id=None, limit=None, cursor=None):
        args = load(RunArgs(), {"contact_id": contact_id, "limit": limit, "cursor": cursor})
        return self.db.run(workflows.list_runs, workflow_id, **args)

    @configured_timer("CAMPAIGNS", "dispatch_seconds", DISPATCH_SECONDS)
    def advance_runs(self):
        services = runs.Services(
            MessagingPort(self.rpc),
            SegmentsPort(self.rpc),
            ContactsPort(self.rpc),
            self.settings.default_timezone,
        )
        now = clock.now()
        RUNS_ADVANCED.inc(
            runs.advance_pass(self.db.transaction, now, services, self.settings.run_chunk)
        )
        RUNS_DUE.set(self.db.run(runs.due_count, now))

    @configured_timer("CAMPAIGNS", "date_check_seconds", DATE_CHECK_SECONDS)
    def check_dates(self):
        self.db.run(dates.check_dates, clock.now(), self.settings.default_timezone)

    @configured_timer("CAMPAIGNS", "dispatch_seconds", DISPATCH_SECONDS)
    def load_audiences(self):
        with self.db.transaction() as session:
            starting.start_scheduled(session, clock.now())
        starting.load_audiences(
            self.db.transaction,
            SegmentsPort(self.rpc),
            ContactsPort(self.rpc),
            self.settings.default_timezone,
        )

    @configured_timer("CAMPAIGNS", "dispatch_seconds", DISPATCH_SECONDS)
    def dispatch(self):
        now = clock.now()
        tally = dispatch.dispatch_pass(
            self.db.transaction,
            MessagingPort(self.rpc),
            now,
            self.settings.chunk,
            self.settings.default_timezone,
            self.settings.in_flight,
        )
        QUEUED.inc(tally.pop("queued", 0))
        for name, count in tally.items():
            REFUSED.labels(name.removeprefix("refused.")).inc(count)
        with self.db.transaction() as session:
            by_status = dispatch.status_counts(session)
            DUE.set(dispatch.due_count(session, now))
        for status in ("draft", "scheduled", "running", "paused", "finished", "cancelled"):
            CAMPAIGNS.labels(status).set(by_status.get(status, 0))

    @on_events(events.MESSAGING)
    def on_message_events(self, payloads):
        self.db.run(feedback.on_message_events, payloads, clock.now())

    @on_events(events.CONTACTS)
    def on_contact_events(self, payloads):
        RUNS_STARTED.inc(self.db.run(triggers.on_trigger_events, payloads, clock.now()))
        self.db.run(dates.on_contact_events, payloads)
        erased = [p["contact_id"] for p in payloads if p.get("event") == events.CONTACT_DELETED]
        if erased:
            self.db.run(feedback.forget_contacts, erased)

    @on_events(events.ACTIVITY)
    def on_activity_events(self, payloads):
        RUNS_STARTED.inc(self.db.run(triggers.on_trigger_events, payloads, clock.now()))

    @on_events(events.SEGMENTS)
    def on_segment_events(self, payloads):
        RUNS_STARTED.inc(self.db.run(triggers.on_trigger_events, payloads, clock.now()))
