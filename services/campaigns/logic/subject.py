"""What campaigns holds on one contact, for the data-subject export: the campaigns it was
in (what became of each message, whether it opened, clicked, unsubscribed) and its
workflow runs, each a page at a time in key order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.paging import page
from plexus.timeutil import rfc3339
from services.campaigns.logic.recipients import recipient_resource
from services.campaigns.logic.workflows import run_representation
from services.campaigns.models import Recipient, Run

EXPORT_PAGE = 500


def _membership(row: Recipient) -> dict:
    return {
        "campaign_id": row.campaign_id,
        **recipient_resource(row),
        "dispatched_at": rfc3339(row.dispatched_at),
        "opened": row.opened,
        "clicked": row.clicked,
        "unsubscribed": row.unsubscribed,
    }


def contact_campaigns(session: Session, contact_id: str, cursor: str | None = None) -> dict:
    """The contact's rows in every campaign, by campaign id."""
    query = select(Recipient).where(Recipient.contact_id == str(contact_id))
    return page(session, query, Recipient.campaign_id, EXPORT_PAGE, cursor, _membership)


def contact_runs(session: Session, contact_id: str, cursor: str | None = None) -> dict:
    """The contact's workflow runs, oldest first."""
    query = select(Run).where(Run.contact_id == str(contact_id))
    return page(session, query, Run.id, EXPORT_PAGE, cursor, run_representation)
