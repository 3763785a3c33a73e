"""contact_score moved by an amount, for a workflow's `score` step: the change announced
as any contact_updated (the feed shows it as a contact/updated item whose actor names
the workflow), once per key whatever the caller's retries."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from plexus.bulk import insert_new
from plexus.errors import Invalid
from plexus.timeutil import utcnow
from services.contacts.logic.addresses import resource_of
from services.contacts.logic.contacts import change
from services.contacts.logic.identifiers import Owners
from services.contacts.logic.lookup import contact_or_404
from services.contacts.models import ScoreChange

KEY_MAX = 200


def add_score(session: Session, contact_id: str, add, actor: str, key: str) -> dict:
    if isinstance(add, bool) or not isinstance(add, int | float) or not math.isfinite(add):
        raise Invalid("add must be a number", {"add": ["must be a number"]})
    if not isinstance(key, str) or not 0 < len(key) <= KEY_MAX:
        raise Invalid("key must be 1 to 200 characters", {"key": ["1 to 200 characters"]})
    contact = contact_or_404(session, contact_id, lock=True)
    first = insert_new(
        session, ScoreChange, [{"key": key, "applied_at": utcnow()}], returning="key"
    )
    if first:
        score = float(contact.contact_score or 0) + float(add)
        change(session, contact, {"contact_score": score}, Owners(), actor)
    return resource_of(session, contact)
