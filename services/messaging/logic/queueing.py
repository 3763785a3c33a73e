"""Storing queued messages, one or a batch alike: the message rows, their first history
line, their `message_queued` events and their deliveries for the channel senders, each a
multi-row INSERT (plexus.bulk) in the caller's transaction. A message whose
`dedupe_key` is taken already (a retry, or another process at the same moment) is
skipped by the database itself (ON CONFLICT DO NOTHING), so a key makes one message
however many calls race for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from plexus.bulk import insert_new, insert_rows
from plexus.contract import events
from plexus.ids import new_id
from plexus.outbox import event_body, record_events
from plexus.timeutil import rfc3339, utcnow
from services.messaging.models import DeliveryOutbox, Message, Outbox, StatusChange

QUEUED = "queued"


@dataclass(frozen=True)
class NewMessage:
    contact_id: str
    channel: str
    origin: str | None
    category: str | None
    template_id: str | None
    content: dict
    resend_of: str | None = None
    purpose: str | None = None  # eligibility.PURPOSES, None for the business's own
    trigger: dict | None = None
    dedupe_key: str | None = None
    held_until: datetime | None = None  # quiet hours: its delivery waits until then
    id: str = field(default_factory=new_id)


def common_payload(values) -> dict:
    """What every event about a message carries, from its columns (a Message, or the
    NewMessage it was stored from): `trigger` too, so that whoever keeps a message's
    activity can say what caused it."""
    return {
        "message_id": values.id,
        "contact_id": values.contact_id,
        "channel": values.channel,
        "origin": values.origin,
        "trigger": values.trigger,
    }


def _row(message: NewMessage, now) -> dict:
    return {
        "id": message.id,
        "contact_id": message.contact_id,
        "channel": message.channel,
        "origin": message.origin,
        "category": message.category,
        "template_id": message.template_id,
        "resend_of": message.resend_of,
        "purpose": message.purpose,
        "status": QUEUED,
        "content": message.content,
        "provider_id": None,
        "dedupe_key": message.dedupe_key,
        "trigger": message.trigger,
        "held_until": message.held_until,
        "created_at": now,
        "updated_at": now,
    }


def store_queued(session: Session, messages: list[NewMessage], actor: str) -> list[NewMessage]:
    """Store the messages as queued and queue each id for its channel's sender after the
    commit (a held one: when its hold ends, logic/holds.py); the ones stored, in order
    (a message whose dedupe_key is taken is not). The
    sender's queue holds ids only: the address and the content reach it through its
    claim (logic/claims.py), so no personal data waits in the broker, and consent is
    judged when the message goes out."""
    if not messages:
        return []
    now = utcnow()
    inserted = insert_new(session, Message, [_row(m, now) for m in messages], returning="id")
    stored = [m for m in messages if m.id in inserted]
    insert_rows(
        session,
        StatusChange,
        [
            {"message_id": m.id, "status": QUEUED, "at": now, "details": _details(m, actor)}
            for m in stored
        ],
    )
    record_events(
        session,
        Outbox,
        [
            event_body(
                events.MESSAGE_QUEUED,
                {
                    **common_payload(m),
                    "category": m.category,
                    "template_id": m.template_id,
                    "resend_of": m.resend_of,
                    "actor": actor,
                },
            )
            for m in stored
        ],
    )
    record_events(
        session,
        DeliveryOutbox,
        [delivery(m.id, m.channel) for m in stored if m.held_until is None],
    )
    return stored


def delivery(message_id: str, channel: str) -> dict:
    """A delivery outbox row's body: the id for the channel's sender, nothing else."""
    return event_body(channel, {"message_id": message_id, "channel": channel})


def _details(message: NewMessage, actor: str) -> dict:
    if message.held_until is None:
        return {"actor": actor}
    return {"actor": actor, "held_until": rfc3339(message.held_until)}
