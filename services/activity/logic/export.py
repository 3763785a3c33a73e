"""The whole feed in pages for a download: the gateway asks page after page and streams
each as it comes, so neither side ever holds more than one page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.activity.logic.feed import feed


def export_page(session: Session, contact_id: str, *, size: int, cursor: str | None) -> dict:
    return feed(session, contact_id, limit=size, cursor=cursor)
