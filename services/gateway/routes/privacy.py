"""The data-subject export (GDPR art. 15 and 20): everything Plexus holds on one
contact, from every service (profile, notes, consent ledger, segments, activity,
messages, campaigns and workflow runs), as one JSON document streamed while it is
gathered."""

from __future__ import annotations

from plexus.contract.services import ACTIVITY, CAMPAIGNS, CONTACTS, MESSAGING, SEGMENTS
from plexus.timeutil import rfc3339, utcnow
from services.gateway.routes.activity import logged
from services.gateway.routes.call import Call
from services.gateway.web import downloads
from services.gateway.web.routing import Answer, Route


def _everything(fetch) -> list[dict]:
    return [row for rows in downloads.pages(fetch(None), fetch) for row in rows]


def export_contact(c: Call):
    contact_id = c.params["contact_id"]
    # Asked before answering, so an unknown contact is a 404, not a broken download.
    contact = c.rpc(CONTACTS, "get_contact", contact_id)
    head = {
        "exported_at": rfc3339(utcnow()),
        "contact": contact,
        "notes": c.rpc(CONTACTS, "list_notes", contact_id)["data"],
        "subscription_history": _everything(
            lambda cursor: c.rpc(
                CONTACTS, "subscription_history", contact_id, limit=200, cursor=cursor
            )
        ),
        "segments": c.rpc(SEGMENTS, "contact_segments", contact_id)["data"],
    }

    def pages(service: str, method: str):
        """The RPC's pages, the first asked now (a failure is a 503, not a cut download)."""
        return downloads.pages(
            c.rpc(service, method, contact_id),
            lambda cursor: c.rpc(service, method, contact_id, cursor=cursor),
        )

    streams = {
        "activity": pages(ACTIVITY, "export_page"),
        "messages": pages(MESSAGING, "contact_messages"),
        "campaigns": pages(CAMPAIGNS, "contact_campaigns"),
        "workflow_runs": pages(CAMPAIGNS, "contact_runs"),
    }
    body = downloads.json_document(head, streams)
    return Answer(
        200, logged(body, contact_id), downloads.attachment(f"contact-{contact_id}", "json")
    )


PRIVACY_ROUTES = (
    Route(
        "GET",
        "/v1/contacts/<contact_id>/export",
        export_contact,
        "Everything held on the contact, from every service (data-subject access)",
        "admin",
        "contacts",
    ),
)
