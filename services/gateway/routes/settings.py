"""/v1/settings/messaging: the frequency caps and quiet hours messaging applies to
campaign, A/B test and workflow messages (forwarded to the messaging service, which
owns and validates them with plexus.contract.messaging_settings). Admins only."""

from __future__ import annotations

from plexus.contract import messaging_settings as schemas
from plexus.contract.services import MESSAGING
from services.gateway.routes.call import Call
from services.gateway.web.routing import Route

ADMIN = "admin"
PATH = "/v1/settings/messaging"


def get_messaging_settings(c: Call):
    return c.rpc(MESSAGING, "get_settings")


def put_messaging_settings(c: Call):
    return c.rpc(MESSAGING, "put_settings", c.body, c.actor)


SETTINGS_ROUTES = (
    Route(
        "GET",
        PATH,
        get_messaging_settings,
        "The messaging settings: frequency caps, quiet hours, the default time zone",
        ADMIN,
        "settings",
        response=schemas.MessagingSettingsResource,
    ),
    Route(
        "PUT",
        PATH,
        put_messaging_settings,
        "Replace the messaging settings (what the body leaves out takes its default)",
        ADMIN,
        "settings",
        body=schemas.MessagingSettings,
        response=schemas.MessagingSettingsResource,
    ),
)
