"""N contacts (default 10,000) entering a workflow at once on PostgreSQL: from their
contact_created events to every run started, then to every run's first send queued.
The target: all started within 10 s, every first send queued within 30 s; waiting costs
nothing (a pass over waiting runs reads none of them).

    .venv/bin/python -m bench.workflows [--contacts 10000] [--record] [--json]

The services' logic runs in this process on a fresh database, each call through JSON as
the RPC would hand it over: campaigns' trigger consumer (in batches of 500, the event
consumer's largest) and the timer's pass (services/campaigns/logic/runs.py), messaging's
queue_batch, contacts' contacts_for_sending; the AMQP hops are left out."""

from __future__ import annotations

import functools
import time

from sqlalchemy import select

from bench.campaigns import in_process_services
from bench.harness import arguments, drop_database, fresh_database, machine, report
from plexus.db import transaction
from plexus.event_consumer import DEFAULT_BATCH_SIZE
from plexus.ids import new_id
from plexus.timeutil import utcnow
from services.campaigns.logic import runs, triggers, workflows
from services.campaigns.models import Run
from services.campaigns.settings import RUN_CHUNK


def make_workflow(unit_of_work, steps: list) -> str:
    values = {"name": "bench", "trigger": {"contact_added": True}, "steps": steps}
    with unit_of_work() as session:
        workflow = workflows.Workflow(status="active", created_by="bench", updated_by="bench")
        workflows._apply(workflow, values)
        session.add(workflow)
        session.flush()
        return workflow.id


def started(unit_of_work, contact_ids: list[str]) -> float:
    """Seconds to start a run for each contact from their contact_created events."""
    payloads = [
        {"event": "contact_created", "event_id": new_id(), "contact_id": contact_id}
        for contact_id in contact_ids
    ]
    begun = time.perf_counter()
    for start in range(0, len(payloads), DEFAULT_BATCH_SIZE):
        with unit_of_work() as session:
            triggers.on_trigger_events(
                session, payloads[start : start + DEFAULT_BATCH_SIZE], utcnow()
            )
    return time.perf_counter() - begun


def statuses(unit_of_work, workflow_id: str) -> dict[str, int]:
    with unit_of_work() as session:
        return workflows.stats(session, [workflow_id])[workflow_id]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    args = parser.parse_args()
    url = fresh_database()
    try:
        with in_process_services(url, args.contacts) as suite:
            services = runs.Services(suite.messaging, None, suite.contacts)
            unit_of_work = functools.partial(transaction, suite.campaigns_sessions)
            send = {"send": {"channel": "email", "template_id": suite.template_id}}
            welcome = make_workflow(unit_of_work, [send, {"wait": {"days": 1}}])
            start_seconds = started(unit_of_work, suite.contact_ids)
            begun = time.perf_counter()
            runs.advance_pass(unit_of_work, utcnow(), services, RUN_CHUNK)
            send_seconds = time.perf_counter() - begun
            done = statuses(unit_of_work, welcome)
            with unit_of_work() as session:
                history = session.scalars(select(Run.history).limit(1)).one()
            # Every run now waits a day: a pass finds nothing due and reads no run.
            begun = time.perf_counter()
            moved = runs.advance_pass(unit_of_work, utcnow(), services, RUN_CHUNK)
            idle_ms = (time.perf_counter() - begun) * 1000
    finally:
        drop_database(url)
    assert done["active"] == args.contacts and moved == 0, (done, moved)
    assert [entry["outcome"] for entry in history] == ["queued", "waiting"], history
    table = f"""{machine()}; {args.contacts:,} contacts entering a workflow (send, then
wait a day) at once on PostgreSQL (bench/workflows.py: campaigns' trigger consumer in
batches of {DEFAULT_BATCH_SIZE}, the timer's pass {RUN_CHUNK} runs a transaction with
their sends in one queue_batch, messaging's queue_batch and contacts' contacts_for_sending
in one process, through JSON; no AMQP hop).

| step | seconds | target |
|---|---|---|
| every run started from the contact_created events | {start_seconds:.2f} | 10 |
| every first send queued (queue_batch: render, store, events) and recorded | {send_seconds:.2f} | 30 (from the start: {start_seconds + send_seconds:.1f}) |
| a pass while every run waits | {idle_ms / 1000:.3f} | nothing |"""  # noqa: E501
    report(
        "Workflow entered by every contact at once (campaigns)",
        table,
        to_results=args.record,
        as_json={"start_seconds": start_seconds, "send_seconds": send_seconds}
        if args.json
        else None,
    )


if __name__ == "__main__":
    main()
