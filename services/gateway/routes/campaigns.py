"""/v1/campaigns...: forwarded to the campaigns service, which checks the template,
segment and channel (422 naming the field) and keeps the state machine (409 for an
action its status does not allow, and for PATCH or DELETE outside `draft`)."""

from __future__ import annotations

from plexus.contract import campaigns as schemas
from plexus.contract.services import CAMPAIGNS
from services.gateway.routes.call import Call
from services.gateway.web.requests import page_args
from services.gateway.web.routing import Answer, Route

READ, WRITE = "campaigns:read", "campaigns:write"


def list_campaigns(c: Call):
    return c.rpc(CAMPAIGNS, "list_campaigns", **page_args(c.args))


def create_campaign(c: Call):
    campaign = c.rpc(CAMPAIGNS, "create_campaign", c.body, c.actor)
    return Answer(201, campaign, {"Location": f"/v1/campaigns/{campaign['id']}"})


def get_campaign(c: Call):
    return c.rpc(CAMPAIGNS, "get_campaign", c.params["campaign_id"])


def update_campaign(c: Call):
    return c.rpc(CAMPAIGNS, "update_campaign", c.params["campaign_id"], c.body, c.actor)


def delete_campaign(c: Call):
    c.rpc(CAMPAIGNS, "delete_campaign", c.params["campaign_id"], c.actor)
    return Answer(204)


def recipients(c: Call):
    return c.rpc(
        CAMPAIGNS,
        "recipients",
        c.params["campaign_id"],
        status=c.args.get("status"),
        **page_args(c.args),
    )


def action(name: str):
    def handler(c: Call):
        return c.rpc(CAMPAIGNS, "act", c.params["campaign_id"], name, c.actor)

    handler.__name__ = f"{name}_campaign"
    return handler


ONE = "/v1/campaigns/<campaign_id>"
T = "campaigns"
PAGE = {"limit": "page size, 1 to 200 (default 50)", "cursor": "next_cursor of the last page"}
ACTIONS = {
    "start": "Start a draft: its audience is the segment's members at this moment "
    "(`scheduled` instead while schedule.at is ahead)",
    "pause": "Pause a running campaign: nothing more is sent until resumed",
    "resume": "Resume a paused campaign",
    "cancel": "Cancel a campaign: nothing more is sent, ever",
}

CAMPAIGN_ROUTES = (
    Route(
        "GET",
        "/v1/campaigns",
        list_campaigns,
        "Campaigns with their stats, newest first",
        READ,
        T,
        response=schemas.Campaign,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/campaigns",
        create_campaign,
        "Create a draft campaign: one template (or an A/B test) to a segment's members "
        "(422 naming the field for a template of another channel, or none, or no segment)",
        WRITE,
        T,
        body=schemas.CampaignInput,
        response=schemas.Campaign,
        status=201,
    ),
    Route(
        "GET", ONE, get_campaign, "One campaign with its stats", READ, T, response=schemas.Campaign
    ),
    Route(
        "PATCH",
        ONE,
        update_campaign,
        "Change a draft (409 once started)",
        WRITE,
        T,
        body=schemas.CampaignPatch,
        response=schemas.Campaign,
    ),
    Route(
        "DELETE", ONE, delete_campaign, "Delete a draft (409 once started)", WRITE, T, status=204
    ),
    *(
        Route(
            "POST",
            f"{ONE}/{name}",
            action(name),
            summary + " (409 when its status does not allow it)",
            WRITE,
            T,
            response=schemas.Campaign,
        )
        for name, summary in ACTIONS.items()
    ),
    Route(
        "GET",
        ONE + "/recipients",
        recipients,
        "The campaign's recipients in contact id order, paged: what became of each one's message",
        READ,
        T,
        response=schemas.Recipient,
        many=True,
        query={**PAGE, "status": "only recipients with this status"},
    ),
)
