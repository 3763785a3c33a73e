"""/v1/campaigns...: forwarded to the campaigns service, which checks the template,
segment and channel (422 naming the field) and keeps the state machine (409 for an
action its status does not allow, and for PATCH or DELETE outside `draft`)."""

from __future__ import annotations

from plexus.contract import campaigns as schemas
from plexus.contract.services import CAMPAIGNS
from services.gateway.routes.call import Call
from services.gateway.routes.lifecycle import Lifecycle, lifecycle_routes
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Route

CAMPAIGN = Lifecycle(
    service=CAMPAIGNS,
    name="campaign",
    read="campaigns:read",
    write="campaigns:write",
    schema=schemas.Campaign,
    input=schemas.CampaignInput,
    patch=schemas.CampaignPatch,
    act="act",
    actions={
        "start": "Start a draft: its audience is the segment's members at this moment "
        "(`scheduled` instead while schedule.at is ahead)",
        "pause": "Pause a running campaign: nothing more is sent until resumed",
        "resume": "Resume a paused campaign",
        "cancel": "Cancel a campaign: nothing more is sent, ever",
    },
    summaries={
        "list": "Campaigns with their stats, newest first",
        "create": "Create a draft campaign: one template (or an A/B test) to a segment's "
        "members (422 naming the field for a template of another channel, or none, or no "
        "segment)",
        "get": "One campaign with its stats",
        "update": "Change a draft (409 once started)",
        "delete": "Delete a draft (409 once started)",
    },
)


def recipients(c: Call):
    return c.rpc(
        CAMPAIGNS,
        "recipients",
        c.params["campaign_id"],
        status=c.args.get("status"),
        **page_args(c.args),
    )


CAMPAIGN_ROUTES = (
    *lifecycle_routes(CAMPAIGN),
    Route(
        "GET",
        CAMPAIGN.one + "/recipients",
        recipients,
        "The campaign's recipients in contact id order, paged: what became of each one's message",
        CAMPAIGN.read,
        "campaigns",
        response=schemas.Recipient,
        many=True,
        query={**PAGE, "status": "only recipients with this status"},
    ),
)
