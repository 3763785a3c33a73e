"""One contact's feed: newest first, filtered by channel, origin, type and a time window
(filters combine; several values of one filter are alternatives), paged by a keyset
cursor. The query is built once here, so that the benchmark can time the bare SQL
this function runs beside the function itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from plexus.errors import NotFound
from plexus.keys import require_key
from plexus.paging import page_of
from services.activity.logic import cursor as cursors
from services.activity.logic.recording import is_erased
from services.activity.logic.representation import item_resource
from services.activity.logic.window import window
from services.activity.models import ActivityItem

Item = ActivityItem
# What an item shows (representation.item_resource), read as plain rows: no ORM objects
# to build for a page that is only turned into JSON.
ITEM_COLUMNS = (
    Item.id,
    Item.contact_id,
    Item.occurred_at,
    Item.channel,
    Item.origin,
    Item.type,
    Item.message_id,
    Item.details,
)


def feed_query(
    contact_id: str,
    *,
    channel=(),
    origin=(),
    type=(),
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> Select:
    """Newest first by (occurred_at, id): the order of ix_activity_items_feed, so the
    first page reads `limit` index entries, not the contact's whole feed."""
    query = select(*ITEM_COLUMNS).where(Item.contact_id == contact_id)
    if channel:
        query = query.where(Item.channel.in_(channel))
    if origin:
        query = query.where(Item.origin.in_(origin))
    if type:
        query = query.where(Item.type.in_(type))
    if since is not None:
        query = query.where(Item.occurred_at >= since)
    if until is not None:
        query = query.where(Item.occurred_at < until)
    if after is not None:
        query = query.where(tuple_(Item.occurred_at, Item.id) < tuple_(*after))
    return query.order_by(Item.occurred_at.desc(), Item.id.desc()).limit(limit)


def known_contact(session: Session, contact_id: str) -> None:
    """Activity knows contacts only by their rows: an erased one is 404; any other id
    simply has an empty feed."""
    require_key(contact_id, "contact")
    if is_erased(session, contact_id):
        raise NotFound("no such contact: it was erased")


def feed(
    session: Session,
    contact_id: str,
    *,
    channel=(),
    origin=(),
    type=(),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict:
    require_key(contact_id, "contact")
    after = cursors.decode(cursor) if cursor else None
    rows = session.execute(
        feed_query(
            contact_id,
            channel=channel,
            origin=origin,
            type=type,
            since=since,
            until=until,
            after=after,
            limit=limit + 1,
        )
    ).all()
    if not rows:
        # Asked only now: an erased contact has no rows, and most feeds are not empty,
        # so the common page costs one query.
        known_contact(session, contact_id)
    return page_of(rows, limit, item_resource, lambda row: cursors.encode(row.occurred_at, row.id))


def feed_in_period(
    session: Session,
    contact_id: str,
    now: datetime,
    *,
    period: str | None,
    since: datetime | None,
    until: datetime | None,
    **filters,
) -> dict:
    """The feed as the API asks for it: a named period back from `now`, or since/until."""
    low, high = window(now, period, since, until)
    return feed(session, contact_id, since=low, until=high, **filters)
