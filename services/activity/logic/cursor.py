"""The feed's cursor: the (occurred_at, id) of the last item given, opaque to clients.
Paging by that key (not by offset) stays correct while new items arrive: they sort
before the cursor and never shift the pages after it."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from plexus.errors import Invalid
from services.activity.logic.representation import aware

SEPARATOR = "|"


def encode(occurred_at: datetime, item_id: str) -> str:
    key = f"{aware(occurred_at).isoformat()}{SEPARATOR}{item_id}"
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode(cursor: str, parameter: str = "cursor") -> tuple[datetime, str]:
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, item_id = key.split(SEPARATOR)
        return aware(datetime.fromisoformat(moment)), item_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid(
            f"{parameter} is not a cursor given by this API",
            {parameter: ["not a cursor given by this API"]},
        ) from None
