"""Workflows as the API shows them: created, read, listed, changed, deleted, activated
and paused. The steps' shape is checked here; their templates with messaging and their
rules with segments (the segment compiler's own checks) before anything is written.
`trigger` and `steps` change only while the workflow is not active (409)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from plexus.audit import record_deletion
from plexus.contract.workflows import WorkflowInput, WorkflowPatch
from plexus.errors import Conflict, NotFound
from plexus.paging import page_of
from plexus.parsing import invalid, load_partly
from plexus.timeutil import rfc3339, utcnow
from services.campaigns.logic import steps as step_shapes
from services.campaigns.models import Run, Workflow

# action -> {from: to}
TRANSITIONS = {"activate": {"draft": "active", "paused": "active"}, "pause": {"active": "paused"}}
STATS = ("entered", "active", "completed", "exited")


def trigger_key(trigger: dict) -> str:
    """What the event consumers look workflows up by (Workflow.trigger_key)."""
    if trigger.get("contact_added"):
        return "contact_added"
    for kind in ("event", "segment_entered", "date_field"):
        if kind in trigger:
            return f"{kind}:{trigger[kind]}"
    raise ValueError(f"not a trigger: {trigger}")


def stats(session: Session, workflow_ids: list[str]) -> dict[str, dict[str, int]]:
    found = {workflow_id: dict.fromkeys(STATS, 0) for workflow_id in workflow_ids}
    rows = session.execute(
        select(Run.workflow_id, Run.status, func.count())
        .where(Run.workflow_id.in_(workflow_ids))
        .group_by(Run.workflow_id, Run.status)
    )
    for workflow_id, status, count in rows:
        named = found[workflow_id]
        named["entered"] += count
        named["active" if status in ("active", "waiting") else status] += count
    return found


def representation(workflow: Workflow, counts: dict[str, int]) -> dict:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "trigger": workflow.trigger,
        "steps": workflow.steps,
        "status": workflow.status,
        "stats": counts,
        "created_at": rfc3339(workflow.created_at),
        "updated_at": rfc3339(workflow.updated_at),
        **workflow.authorship(),
    }


def resource(session: Session, workflow: Workflow) -> dict:
    return representation(workflow, stats(session, [workflow.id])[workflow.id])


def workflow_or_404(session: Session, workflow_id, *, lock: bool = False) -> Workflow:
    workflow = session.get(Workflow, str(workflow_id or "")[:26], with_for_update=lock or None)
    if workflow is None:
        raise NotFound(f"no workflow {workflow_id}")
    return workflow


def read_body(schema, data) -> dict:
    """The body, with the steps' shape checked: every problem at once."""
    if not isinstance(data, dict):
        raise invalid({"_schema": ["must be a JSON object"]})
    values, errors = load_partly(schema, data)
    if "steps" in values:
        errors.update(step_shapes.problems(values["steps"]))
    if errors:
        raise invalid(errors)
    return values


def check_references(values: dict, messaging, segments) -> None:
    """Each send's template exists and is of its channel, each rule is one segments
    accepts, the entered segment exists: else 422 naming each path."""
    errors: dict[str, list[str]] = {}
    for path, step in step_shapes.walk(values.get("steps") or []):
        where = f"steps.{path}"
        if "send" in step:
            send = step["send"]
            template = messaging.template(send["template_id"])
            if template is None:
                errors[f"{where}.send.template_id"] = [f"no template {send['template_id']}"]
            elif template.get("channel") != send["channel"]:
                errors[f"{where}.send.template_id"] = [
                    f"template {send['template_id']} is for {template.get('channel')}, "
                    f"not {send['channel']}"
                ]
        for kind in ("if", "exit_if"):
            if kind in step:
                for inner, texts in segments.rule_problems(step[kind]).items():
                    errors[f"{where}.{kind}{inner.removeprefix('rule')}"] = texts
    segment_id = (values.get("trigger") or {}).get("segment_entered")
    if segment_id is not None and not segments.exists(segment_id):
        errors["trigger.segment_entered"] = [f"no segment {segment_id}"]
    if errors:
        raise invalid(errors)


def _apply(workflow: Workflow, values: dict) -> None:
    if "name" in values:
        workflow.name = values["name"]
    if "trigger" in values:
        workflow.trigger = values["trigger"]
        workflow.trigger_key = trigger_key(values["trigger"])
    if "steps" in values:
        workflow.steps = values["steps"]


def new_workflow(transaction, data, messaging, segments, actor: str = "system") -> dict:
    """POST: read, ask the services, then write."""
    values = read_body(WorkflowInput(), data)
    check_references(values, messaging, segments)
    with transaction() as session:
        workflow = Workflow(status="draft", created_by=actor, updated_by=actor)
        _apply(workflow, values)
        session.add(workflow)
        session.flush()
        return representation(workflow, dict.fromkeys(STATS, 0))


def _must_not_be_active(workflow: Workflow, what: str) -> None:
    if workflow.status == "active":
        raise Conflict(f"an active workflow's {what}; pause it first", {"status": ["is active"]})


def change_workflow(
    transaction, workflow_id: str, data, messaging, segments, actor: str = "system"
) -> dict:
    """PATCH: the name any time; trigger and steps while not active."""
    patch = read_body(WorkflowPatch(), data)
    with transaction() as session:
        workflow = workflow_or_404(session, workflow_id)
        if "trigger" in patch or "steps" in patch:
            _must_not_be_active(workflow, "trigger and steps cannot change")
    check_references(patch, messaging, segments)
    with transaction() as session:
        workflow = workflow_or_404(session, workflow_id, lock=True)
        if "trigger" in patch or "steps" in patch:
            _must_not_be_active(workflow, "trigger and steps cannot change")
        _apply(workflow, patch)
        workflow.updated_at, workflow.updated_by = utcnow(), actor
        return resource(session, workflow)


def delete_workflow(session: Session, workflow_id: str, actor: str = "system") -> None:
    """Not while active; its runs go with it."""
    workflow = workflow_or_404(session, workflow_id, lock=True)
    _must_not_be_active(workflow, "cannot be deleted")
    session.execute(delete(Run).where(Run.workflow_id == workflow.id))
    session.delete(workflow)
    record_deletion("workflow", workflow.id, actor)


def act(session: Session, workflow_id: str, action: str, actor: str = "system") -> dict:
    workflow = workflow_or_404(session, workflow_id, lock=True)
    allowed = TRANSITIONS[action]
    if workflow.status not in allowed:
        raise Conflict(
            f"a {workflow.status} workflow cannot {action}; it can from: {', '.join(allowed)}",
            {"status": [f"is {workflow.status}"]},
        )
    workflow.status = allowed[workflow.status]
    workflow.updated_at, workflow.updated_by = utcnow(), actor
    return resource(session, workflow)


def read_workflow(session: Session, workflow_id: str) -> dict:
    return resource(session, workflow_or_404(session, workflow_id))


def list_workflows(session: Session, limit: int, cursor: str | None) -> dict:
    query = select(Workflow)
    if cursor is not None:
        query = query.where(Workflow.id < cursor)
    rows = session.scalars(query.order_by(Workflow.id.desc()).limit(limit + 1)).all()
    counts = stats(session, [row.id for row in rows[:limit]])
    return page_of(rows, limit, lambda row: representation(row, counts[row.id]), lambda row: row.id)


def run_representation(run: Run) -> dict:
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "contact_id": run.contact_id,
        "status": run.status,
        "step": run.step,
        "due_at": rfc3339(run.due_at) if run.live else None,
        "history": list(run.history or []),
        "started_at": rfc3339(run.started_at),
    }


def list_runs(
    session: Session, workflow_id: str, contact_id: str | None, limit: int, cursor: str | None
) -> dict:
    """The workflow's runs, newest first (optionally one contact's)."""
    workflow_or_404(session, workflow_id)
    query = select(Run).where(Run.workflow_id == workflow_id)
    if contact_id is not None:
        query = query.where(Run.contact_id == contact_id)
    if cursor is not None:
        query = query.where(Run.id < cursor)
    rows = session.scalars(query.order_by(Run.id.desc()).limit(limit + 1)).all()
    return page_of(rows, limit, run_representation, lambda row: row.id)
