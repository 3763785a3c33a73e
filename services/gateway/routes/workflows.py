"""/v1/workflows...: forwarded to the campaigns service, which checks the steps (422
naming the step's path), their templates and rules, and keeps the states (409 for an
action the status does not allow, and for changing the steps of an active workflow)."""

from __future__ import annotations

from plexus.contract import workflows as schemas
from plexus.contract.services import CAMPAIGNS
from services.gateway.routes.call import Call
from services.gateway.routes.lifecycle import Lifecycle, lifecycle_routes
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Route

WORKFLOW = Lifecycle(
    service=CAMPAIGNS,
    name="workflow",
    read="campaigns:read",
    write="campaigns:write",
    schema=schemas.Workflow,
    input=schemas.WorkflowInput,
    patch=schemas.WorkflowPatch,
    act="act_workflow",
    actions={
        "activate": "Activate a draft or paused workflow: contacts meeting its trigger start "
        "runs, and paused runs go on",
        "pause": "Pause an active workflow: no run starts or moves until activated again",
    },
    summaries={
        "list": "Workflows with their stats, newest first",
        "create": "Create a draft workflow: a trigger and the steps each contact meeting it "
        "runs through (422 naming the step's path for a bad step, template or rule)",
        "get": "One workflow with its stats",
        "update": "Change a workflow: its name any time, trigger and steps while not active (409)",
        "delete": "Delete a workflow that is not active, with its runs (409 while active)",
    },
)


def runs(c: Call):
    return c.rpc(
        CAMPAIGNS,
        "workflow_runs",
        c.params["workflow_id"],
        contact_id=c.args.get("contact_id"),
        **page_args(c.args),
    )


WORKFLOW_ROUTES = (
    *lifecycle_routes(WORKFLOW),
    Route(
        "GET",
        WORKFLOW.one + "/runs",
        runs,
        "The workflow's runs, newest first, each with its steps' outcomes",
        WORKFLOW.read,
        "workflows",
        response=schemas.Run,
        many=True,
        query={**PAGE, "contact_id": "only this contact's runs"},
    ),
)
