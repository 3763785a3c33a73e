"""Every route the gateway serves but /openapi.json and /docs, in one table (the scope tests
read it); the OpenAPI document describes these and serves itself (services.gateway.openapi),
and services.gateway.app routes both."""

from services.gateway.routes.activity import ACTIVITY_ROUTES
from services.gateway.routes.blacklists import BLACKLIST_ROUTES
from services.gateway.routes.campaigns import CAMPAIGN_ROUTES
from services.gateway.routes.contacts import CONTACT_ROUTES
from services.gateway.routes.forms import FORM_ROUTES
from services.gateway.routes.messages import MESSAGE_ROUTES
from services.gateway.routes.privacy import PRIVACY_ROUTES
from services.gateway.routes.segments import SEGMENT_ROUTES
from services.gateway.routes.settings import SETTINGS_ROUTES
from services.gateway.routes.system import SYSTEM_ROUTES
from services.gateway.routes.ui import UI_ROUTES

ROUTES = (
    *SYSTEM_ROUTES,
    *CONTACT_ROUTES,
    *BLACKLIST_ROUTES,
    *ACTIVITY_ROUTES,
    *MESSAGE_ROUTES,
    *SEGMENT_ROUTES,
    *CAMPAIGN_ROUTES,
    *SETTINGS_ROUTES,
    *PRIVACY_ROUTES,
    *FORM_ROUTES,
    *UI_ROUTES,
)
