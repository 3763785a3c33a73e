"""One item with its full detail. For a message item, the message itself (its status
history and what triggered it) is asked of messaging; when messaging cannot say, the item
is still given, with `message` null and `message_error` saying why. Its `trigger` is the
one the message's event carried, kept with the item: it needs no answer from messaging."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from plexus.errors import NotFound, PlexusError
from plexus.keys import usable_key
from services.activity.logic.representation import item_resource
from services.activity.models import ActivityItem


def get_item(session: Session, item_id: str, get_message: Callable[[str], dict]) -> dict:
    row = session.get(ActivityItem, item_id) if usable_key(item_id) else None
    if row is None:
        raise NotFound("no such activity item")
    item = item_resource(row)
    if row.message_id is None:
        return item
    item["trigger"] = row.trigger
    try:
        return {**item, "message": get_message(row.message_id), "message_error": None}
    except NotFound:
        return {**item, "message": None, "message_error": "messaging has no such message"}
    except PlexusError as error:  # Unavailable, or a failure on messaging's side
        return {**item, "message": None, "message_error": error.detail or error.title}
