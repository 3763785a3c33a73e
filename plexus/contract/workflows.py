"""The workflows resources and their vocabulary: the campaigns service loads bodies with
the `*Input` / `*Patch` schemas, the gateway publishes all of them as OpenAPI.

A workflow runs each contact that meets its trigger through its steps, one run per
contact at a time. A step is one of

    {"wait": {"minutes" | "hours" | "days": N}}     {"wait_until_local": "HH:MM"}
    {"send": {"channel", "template_id"}}            {"score": {"add": N}}
    {"if": RULE, "then": [STEP], "else": [STEP]}    {"exit_if": RULE}

where RULE is the segment rule language, evaluated for the contact at that moment. The
steps are checked by services.campaigns.logic.steps (a recursive shape OpenAPI shows as
objects)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from plexus.contract.fields import Authored, StrictBoolean, StrictSchema, Text, describe

STATUSES = ("draft", "active", "paused")
ACTIONS = ("activate", "pause")
RUN_STATUSES = ("active", "waiting", "completed", "exited")
# What caused a run, as its messages' trigger.cause names it.
TRIGGER_KINDS = ("event", "segment_entered", "contact_added", "date_field")
DATE_FIELDS = ("birthday",)
STEP_KINDS = ("wait", "wait_until_local", "send", "if", "exit_if", "score")
WAIT_UNITS = ("minutes", "hours", "days")

NAME_MAX = 100
MAX_STEPS = 100  # steps of a workflow, nested ones included
MAX_DEPTH = 5  # if inside if
MAX_WAIT_DAYS = 365
MAX_DAYS_BEFORE = 366
MAX_SCORE = 1_000_000

STEPS_ABOUT = describe(
    "The steps, run in order: wait {minutes|hours|days}, wait_until_local HH:MM, send "
    "{channel, template_id}, if RULE then [...] else [...], exit_if RULE, score {add}. "
    f"At most {MAX_STEPS} in all, `if` {MAX_DEPTH} deep; a bad step is 422 naming its path, "
    "e.g. steps.2.then.0.send.template_id."
)


class Trigger(StrictSchema):
    event = Text(max_length=100, metadata=describe("a custom event's name"))
    segment_entered = Text(max_length=26, metadata=describe("a segment's id"))
    contact_added = StrictBoolean(metadata=describe("true: each contact created"))
    date_field = fields.String(validate=validate.OneOf(DATE_FIELDS))
    days_before = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_DAYS_BEFORE),
        metadata=describe("with date_field: how many days ahead of the date (default 0)"),
    )

    @validates_schema
    def _one_kind(self, data, **kwargs):
        kinds = [kind for kind in TRIGGER_KINDS if kind in data]
        if len(kinds) != 1:
            raise ValidationError(f"must name exactly one of: {', '.join(TRIGGER_KINDS)}")
        if "contact_added" in data and data["contact_added"] is not True:
            raise ValidationError("must be true", "contact_added")
        if "days_before" in data and "date_field" not in data:
            raise ValidationError("only with date_field", "days_before")


class WorkflowInput(StrictSchema):
    name = Text(required=True, max_length=NAME_MAX)
    trigger = fields.Nested(Trigger, required=True)
    steps = fields.List(fields.Dict(), required=True, metadata=STEPS_ABOUT)


class WorkflowPatch(StrictSchema):
    """Any field; `trigger` and `steps` only while the workflow is not active (409)."""

    name = Text(max_length=NAME_MAX)
    trigger = fields.Nested(Trigger)
    steps = fields.List(fields.Dict(), metadata=STEPS_ABOUT)


class WorkflowStats(StrictSchema):
    entered = fields.Integer(metadata=describe("runs started"))
    active = fields.Integer(metadata=describe("runs under way (waiting included)"))
    completed = fields.Integer()
    exited = fields.Integer(metadata=describe("runs ended by exit_if"))


class Workflow(StrictSchema, Authored):
    id = fields.String()
    name = fields.String()
    trigger = fields.Nested(Trigger)
    steps = fields.List(fields.Dict(), metadata=STEPS_ABOUT)
    status = fields.String(validate=validate.OneOf(STATUSES))
    stats = fields.Nested(WorkflowStats)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RunStep(StrictSchema):
    step = fields.String(metadata=describe("the step's path, e.g. 2.then.0"))
    at = fields.DateTime()
    outcome = fields.String(
        metadata=describe("what it did: waited, queued, refused.<reason>, then, else, score...")
    )


class Run(StrictSchema):
    id = fields.String()
    workflow_id = fields.String()
    contact_id = fields.String()
    status = fields.String(validate=validate.OneOf(RUN_STATUSES))
    step = fields.String(allow_none=True, metadata=describe("the next step's path; null once over"))
    due_at = fields.DateTime(allow_none=True, metadata=describe("when a waiting run goes on"))
    history = fields.List(fields.Nested(RunStep))
    started_at = fields.DateTime()
