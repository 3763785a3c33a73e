"""A campaign's recipients as the API lists them, in contact id order, paged; `status`
is what became of the message (its delivery once messaging told), else what the
dispatcher did."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plexus.paging import page_of
from services.campaigns.logic.definitions import campaign_or_404
from services.campaigns.models import Recipient


def recipient_resource(row) -> dict:
    return {
        "contact_id": row.contact_id,
        "variant": row.variant,
        "message_id": row.message_id,
        "status": row.delivery or row.status,
        "reason": row.reason,
    }


def list_recipients(
    session: Session, campaign_id: str, status: str | None, limit: int, cursor: str | None
) -> dict:
    campaign_or_404(session, campaign_id)
    query = select(Recipient).where(Recipient.campaign_id == campaign_id)
    if status:
        query = query.where(func.coalesce(Recipient.delivery, Recipient.status) == status)
    if cursor is not None:
        query = query.where(Recipient.contact_id > cursor)
    rows = session.scalars(query.order_by(Recipient.contact_id).limit(limit + 1)).all()
    return page_of(rows, limit, recipient_resource, lambda row: row.contact_id)
