"""/v1/workflows...: forwarded to the campaigns service, which checks the steps (422
naming the step's path), their templates and rules, and keeps the states (409 for an
action the status does not allow, and for changing the steps of an active workflow)."""

from __future__ import annotations

from plexus.contract import workflows as schemas
from plexus.contract.services import CAMPAIGNS
from services.gateway.routes.call import Call
from services.gateway.web.requests import page_args
from services.gateway.web.routing import Answer, Route

READ, WRITE = "campaigns:read", "campaigns:write"


def list_workflows(c: Call):
    return c.rpc(CAMPAIGNS, "list_workflows", **page_args(c.args))


def create_workflow(c: Call):
    workflow = c.rpc(CAMPAIGNS, "create_workflow", c.body, c.actor)
    return Answer(201, workflow, {"Location": f"/v1/workflows/{workflow['id']}"})


def get_workflow(c: Call):
    return c.rpc(CAMPAIGNS, "get_workflow", c.params["workflow_id"])


def update_workflow(c: Call):
    return c.rpc(CAMPAIGNS, "update_workflow", c.params["workflow_id"], c.body, c.actor)


def delete_workflow(c: Call):
    c.rpc(CAMPAIGNS, "delete_workflow", c.params["workflow_id"], c.actor)
    return Answer(204)


def runs(c: Call):
    return c.rpc(
        CAMPAIGNS,
        "workflow_runs",
        c.params["workflow_id"],
        contact_id=c.args.get("contact_id"),
        **page_args(c.args),
    )


def action(name: str):
    def handler(c: Call):
        return c.rpc(CAMPAIGNS, "act_workflow", c.params["workflow_id"], name, c.actor)

    handler.__name__ = f"{name}_workflow"
    return handler


ONE = "/v1/workflows/<workflow_id>"
T = "workflows"
PAGE = {"limit": "page size, 1 to 200 (default 50)", "cursor": "next_cursor of the last page"}
ACTIONS = {
    "activate": "Activate a draft or paused workflow: contacts meeting its trigger start runs, "
    "and paused runs go on",
    "pause": "Pause an active workflow: no run starts or moves until activated again",
}

WORKFLOW_ROUTES = (
    Route(
        "GET",
        "/v1/workflows",
        list_workflows,
        "Workflows with their stats, newest first",
        READ,
        T,
        response=schemas.Workflow,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/workflows",
        create_workflow,
        "Create a draft workflow: a trigger and the steps each contact meeting it runs "
        "through (422 naming the step's path for a bad step, template or rule)",
        WRITE,
        T,
        body=schemas.WorkflowInput,
        response=schemas.Workflow,
        status=201,
    ),
    Route(
        "GET", ONE, get_workflow, "One workflow with its stats", READ, T, response=schemas.Workflow
    ),
    Route(
        "PATCH",
        ONE,
        update_workflow,
        "Change a workflow: its name any time, trigger and steps while not active (409)",
        WRITE,
        T,
        body=schemas.WorkflowPatch,
        response=schemas.Workflow,
    ),
    Route(
        "DELETE",
        ONE,
        delete_workflow,
        "Delete a workflow that is not active, with its runs (409 while active)",
        WRITE,
        T,
        status=204,
    ),
    *(
        Route(
            "POST",
            f"{ONE}/{name}",
            action(name),
            summary + " (409 when its status does not allow it)",
            WRITE,
            T,
            response=schemas.Workflow,
        )
        for name, summary in ACTIONS.items()
    ),
    Route(
        "GET",
        ONE + "/runs",
        runs,
        "The workflow's runs, newest first, each with its steps' outcomes",
        READ,
        T,
        response=schemas.Run,
        many=True,
        query={**PAGE, "contact_id": "only this contact's runs"},
    ),
)
