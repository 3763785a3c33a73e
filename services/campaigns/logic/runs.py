"""Workflow runs: started by a trigger, then moved along their steps by the timer.

A run waits by its stored `due_at`; nothing sleeps. Each pass the timer claims due runs a
chunk at a time and takes each as far as it goes now: to a wait (due_at set ahead), a
send, or its end; the chunk's sends go to messaging together, one queue_batch a round.
On PostgreSQL the chunk is taken `FOR UPDATE SKIP LOCKED` and the locks
held over the calls, so two campaigns processes never run one step twice; on SQLite one
process writes. A crash before the commit leaves the runs where they were: the step runs
again, and a send's key ("workflow:<run_id>:<step>") makes messaging answer the message it
queued the first time instead of queueing another; a score's key does the same in contacts.

Each step's outcome goes into the run's history: waiting / waited, queued / refused.<reason>,
then / else, stayed / exited, score +N."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plexus.bulk import insert_new
from plexus.errors import Invalid, Unavailable
from plexus.ids import new_id
from plexus.seen_events import first_seen
from plexus.timeutil import rfc3339
from plexus.zones import contact_zone
from services.campaigns.logic import steps as walk
from services.campaigns.logic.timing import local_due
from services.campaigns.models import ContactDate, Run, SeenEvent, Workflow

log = logging.getLogger(__name__)

ACTOR = "system"
# Steps one run may take in one pass: a guard against a workflow of instant steps only.
MAX_STEPS_A_PASS = 50


def active_workflows(session: Session, keys: set[str]) -> list[Workflow]:
    if not keys:
        return []
    return list(
        session.scalars(
            select(Workflow).where(
                Workflow.trigger_key.in_(sorted(keys)), Workflow.status == "active"
            )
        )
    )


def first_time(session: Session, keys: list[str], now: datetime) -> set[str]:
    """The keys (event ids) not applied before: the broker delivers at least once."""
    return first_seen(session, SeenEvent, keys, now)


def start_runs(
    session: Session,
    starts: list[tuple[str, str, dict]],
    now: datetime,
    only: set[tuple[str, str]] | None = None,
) -> int:
    """(trigger key, contact_id, cause) each: a run of every active workflow with that
    trigger, for a contact with none under way (the unique (workflow_id, live) skips the
    others); with `only`, of those (workflow_id, contact_id) pairs. How many started."""
    workflows = active_workflows(session, {key for key, _, _ in starts})
    by_key: dict[str, list[Workflow]] = {}
    for workflow in workflows:
        by_key.setdefault(workflow.trigger_key, []).append(workflow)
    rows = []
    for key, contact_id, cause in starts:
        for workflow in by_key.get(key, []):
            if only is not None and (workflow.id, contact_id) not in only:
                continue
            first = walk.first_of(workflow.steps)
            rows.append(
                {
                    "id": new_id(),
                    "workflow_id": workflow.id,
                    "contact_id": contact_id,
                    "live": contact_id if first else None,
                    "status": "active" if first else "completed",
                    "step": first,
                    "due_at": now,
                    "cause": cause,
                    "history": [],
                    "started_at": now,
                    "updated_at": now,
                }
            )
    return len(insert_new(session, Run, rows, returning="id"))


def _note(run: Run, path: str, outcome: str, now: datetime) -> None:
    run.history = [*(run.history or []), {"step": path, "at": rfc3339(now), "outcome": outcome}]


def _end(run: Run, status: str, now: datetime) -> None:
    run.status, run.step, run.live, run.due_at, run.updated_at = status, None, None, None, now


def _go_to(run: Run, path: str | None, now: datetime) -> None:
    if path is None:
        _end(run, "completed", now)
    else:
        run.status, run.step, run.due_at, run.updated_at = "active", path, now, now


def send_item(workflow: Workflow, run: Run, path: str, send: dict) -> dict:
    return {
        "key": f"workflow:{run.id}:{path}",
        "contact_id": run.contact_id,
        "channel": send["channel"],
        "template_id": send["template_id"],
        "origin": "workflow",
        "category": None,
        "trigger": {
            "workflow_id": workflow.id,
            "run_id": run.id,
            "step": path,
            "cause": run.cause,
        },
    }


class Services:
    """What the steps ask of other services (campaigns' ports), and the zone of a
    contact without one. `known_zones`: the chunk's contacts' zones as campaigns keeps
    them (ContactDate); contacts is asked only for a contact it has no row of."""

    def __init__(self, messaging, segments, contacts, default_zone: str = "UTC"):
        self.messaging, self.segments, self.contacts = messaging, segments, contacts
        self.default_zone = default_zone
        self.known_zones: dict[str, str | None] = {}

    def timezone(self, contact_id: str) -> str | None:
        if contact_id in self.known_zones:
            return self.known_zones[contact_id]
        return self.contacts.timezones([contact_id]).get(contact_id)


# take_step's answer: the run goes on at once, it stops here (waits or is over), or its
# step is a send (queued with the chunk's others in one call).
GO_ON, STOP = True, False


def take_step(workflow: Workflow, run: Run, now: datetime, services: Services) -> bool | dict:
    """Run the run's step: GO_ON, STOP, or the queue_batch item of a send, which
    `sent` records once messaging answered."""
    path = run.step
    step = walk.step_at(workflow.steps, path) if path else None
    if step is None:
        _end(run, "completed", now)
        return STOP
    steps = workflow.steps
    if "wait" in step or "wait_until_local" in step:
        if run.status == "waiting":  # its moment came
            _note(run, path, "waited", now)
            _go_to(run, walk.following(steps, path), now)
            return run.step is not None
        if "wait" in step:
            run.due_at = now + walk.wait_length(step["wait"])
        else:
            tz = contact_zone(services.timezone(run.contact_id), services.default_zone)
            run.due_at = local_due(now, step["wait_until_local"], tz)
        run.status, run.updated_at = "waiting", now
        _note(run, path, "waiting", now)
        return STOP
    if "send" in step:
        return send_item(workflow, run, path, step["send"])
    if "if" in step:
        branch = "then" if services.segments.matches(step["if"], run.contact_id) else "else"
        _note(run, path, branch, now)
        _go_to(run, walk.branch_start(steps, path, branch), now)
        return run.step is not None
    if "exit_if" in step:
        if services.segments.matches(step["exit_if"], run.contact_id):
            _note(run, path, "exited", now)
            _end(run, "exited", now)
            return STOP
        _note(run, path, "stayed", now)
    elif "score" in step:
        add = step["score"]["add"]
        services.contacts.add_score(
            run.contact_id, add, f"workflow:{workflow.id}", f"workflow:{run.id}:{path}"
        )
        _note(run, path, f"score {add:+g}", now)
    _go_to(run, walk.following(steps, path), now)
    return run.step is not None


def _fail(workflow: Workflow, run: Run, error: Exception, now: datetime) -> None:
    """Not a passing failure (a template deleted since, a rule no longer valid): the run
    ends rather than failing every pass."""
    log.warning("workflow %s run %s: step %s refused: %s", workflow.id, run.id, run.step, error)
    _note(run, run.step or "", f"failed: {error}", now)
    _end(run, "exited", now)


def advance(workflow: Workflow, run: Run, now: datetime, services: Services) -> dict | None:
    """The run taken as far as it goes now: the item of the send it stopped at, if so."""
    for _ in range(MAX_STEPS_A_PASS):
        try:
            went = take_step(workflow, run, now, services)
        except Invalid as error:
            _fail(workflow, run, error, now)
            return None
        if isinstance(went, dict):
            return went
        if not went:
            return None
    return None


def sent(workflow: Workflow, run: Run, answer: dict, now: datetime) -> None:
    """messaging's answer to the run's send recorded, and the run past it."""
    path = run.step or ""
    if answer.get("status") == "queued":
        _note(run, path, "queued", now)
    else:
        _note(run, path, f"refused.{answer.get('reason') or 'unknown'}", now)
    _go_to(run, walk.following(workflow.steps, path), now)


def _queue(services: Services, items: list[dict]) -> list[dict | Exception]:
    """One queue_batch for the items; should messaging refuse the batch as invalid (a
    template deleted since), each alone, so that only the sends it concerns fail."""
    try:
        answers = services.messaging.queue_batch(items, ACTOR)
    except Invalid:
        answers = []
        for item in items:
            try:
                answers.append(services.messaging.queue_batch([item], ACTOR)[0])
            except Invalid as error:
                answers.append(error)
    if len(answers) != len(items):
        raise Unavailable(f"messaging answered {len(answers)} items for {len(items)}")
    return answers


def advance_all(
    workflows: dict[str, Workflow], runs: list[Run], now: datetime, services: Services
) -> None:
    """The claimed runs taken as far as they go now, their sends queued together: one
    queue_batch a round (a run with two sends in a row takes two rounds)."""
    stepping = runs
    for _ in range(MAX_STEPS_A_PASS):
        sending = [
            (run, item)
            for run in stepping
            if (item := advance(workflows[run.workflow_id], run, now, services)) is not None
        ]
        if not sending:
            return
        answers = _queue(services, [item for _, item in sending])
        for (run, _), answer in zip(sending, answers, strict=True):
            if isinstance(answer, Exception):
                _fail(workflows[run.workflow_id], run, answer, now)
            else:
                sent(workflows[run.workflow_id], run, answer, now)
        stepping = [run for run, _ in sending if run.step is not None]


def due_runs(session: Session, now: datetime, limit: int) -> list[Run]:
    """Runs under way of active workflows whose moment came, claimed (SKIP LOCKED)."""
    return list(
        session.scalars(
            select(Run)
            .join(Workflow, Workflow.id == Run.workflow_id)
            .where(Run.live.is_not(None), Run.due_at <= now, Workflow.status == "active")
            .order_by(Run.due_at, Run.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Run)
        )
    )


def advance_chunk(transaction, now: datetime, services: Services, limit: int) -> int:
    """One chunk of due runs advanced in one transaction; how many."""
    with transaction() as session:
        runs = due_runs(session, now, limit)
        workflows = {
            w.id: w
            for w in session.scalars(
                select(Workflow).where(Workflow.id.in_({r.workflow_id for r in runs}))
            )
        }
        services.known_zones = dict(
            session.execute(
                select(ContactDate.contact_id, ContactDate.timezone).where(
                    ContactDate.contact_id.in_({r.contact_id for r in runs})
                )
            ).all()
        )
        advance_all(workflows, runs, now, services)
        return len(runs)


def due_count(session: Session, now: datetime) -> int:
    """Runs under way of active workflows whose moment came, not yet advanced."""
    return session.scalar(
        select(func.count())
        .select_from(Run)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.live.is_not(None), Run.due_at <= now, Workflow.status == "active")
    )


def advance_pass(transaction, now: datetime, services: Services, limit: int) -> int:
    """Every due run advanced, a chunk at a time; how many."""
    total = 0
    while (done := advance_chunk(transaction, now, services, limit)) > 0:
        total += done
        if done < limit:
            break
    return total
