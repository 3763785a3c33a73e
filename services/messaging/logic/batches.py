"""queue_batch: campaigns, A/B tests and workflows queue up to 500 messages a call, each
rendered from a template for its contact, as a set: the templates read once, one
contacts RPC for every contact (contacts_for_sending), one transaction writing
everything with multi-row INSERTs (logic/queueing.py).

Each item has a `key` naming the message it means. A key stored already answers that
message and queues nothing, so a retry after a crash, a redelivered request or two
callers at once make one message a key. A refused item stores nothing: asked again, it
is judged again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.messages import BatchInput
from plexus.errors import Invalid, PlexusError
from plexus.parsing import load
from plexus.timeutil import rfc3339
from services.messaging.logic import limits
from services.messaging.logic.eligibility import refusal
from services.messaging.logic.queueing import QUEUED, NewMessage, store_queued
from services.messaging.logic.sending import render_content, template_source
from services.messaging.logic.templates import in_language
from services.messaging.logic.variables import template_context
from services.messaging.models import Message, Template
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings

REFUSED = "refused"


def _answer(
    item: dict,
    message_id: str | None,
    reason: str | None = None,
    held_until: datetime | None = None,
) -> dict:
    return {
        "key": item["key"],
        "contact_id": item["contact_id"],
        "message_id": message_id,
        "status": REFUSED if reason else QUEUED,
        "reason": reason,
        "held_until": rfc3339(held_until) if held_until else None,
    }


def _stored(session: Session, keys: list[str]) -> dict:
    """The messages stored under these keys, by key: id and held_until (null once
    released)."""
    found = session.execute(
        select(Message.dedupe_key, Message.id, Message.held_until).where(
            Message.dedupe_key.in_(keys)
        )
    ).all()
    return {row.dedupe_key: row for row in found}


def _at(index: int, error: PlexusError) -> PlexusError:
    """The error of one item, its fields under `items.<index>.`."""
    error.errors = {f"items.{index}.{path}": texts for path, texts in error.errors.items()}
    return error


def _sources(session: Session, items: list[tuple[int, dict]]) -> dict[int, dict]:
    """What each item renders from, by language: its template, every template read
    once."""
    wanted = {item["template_id"] for _, item in items}
    templates = {t.id: t for t in session.scalars(select(Template).where(Template.id.in_(wanted)))}
    sources = {}
    for index, item in items:
        template = templates.get(item["template_id"])
        if template is None:
            raise Invalid("no such template", {f"items.{index}.template_id": ["no such template"]})
        try:
            sources[index] = template_source(template, item["channel"])
        except PlexusError as error:
            raise _at(index, error) from None
    return sources


def _rendered(
    index: int, item: dict, source: dict, variables: list[dict], settings: Settings
) -> NewMessage:
    try:
        content = render_content(
            item["channel"], source, template_context(variables, item["data"]), settings.limits
        )
    except PlexusError as error:
        raise _at(index, error) from None
    return NewMessage(
        contact_id=item["contact_id"],
        channel=item["channel"],
        origin=item["origin"],
        category=item["category"],
        template_id=item["template_id"],
        content=content,
        trigger=item["trigger"],
        dedupe_key=item["key"],
    )


def queue_batch(
    transaction, contacts: ContactsPort, settings: Settings, items, actor: str
) -> list[dict]:
    """One answer an item, in order: queued with its message id (stored now or under its
    key before) and its held_until under quiet hours, or refused with the eligibility
    rule's reason or `frequency_cap` (the messaging settings: logic/limits.py)."""
    items = load(BatchInput(), {"items": items})["items"]
    answers: list[dict | None] = [None] * len(items)
    with transaction() as session:
        stored = _stored(session, [item["key"] for item in items])
        fresh = [(n, item) for n, item in enumerate(items) if item["key"] not in stored]
        sources = _sources(session, fresh) if fresh else {}
    for n, item in enumerate(items):
        if item["key"] in stored:
            answers[n] = _answer(item, stored[item["key"]].id, None, stored[item["key"]].held_until)
    found = (
        contacts.contacts_for_sending(sorted({i["contact_id"] for _, i in fresh})) if fresh else {}
    )
    new: list[tuple[int, NewMessage, dict]] = []
    for n, item in fresh:
        entry = found.get(item["contact_id"])
        refused = refusal(entry and entry["contact"], item["channel"], item["category"])
        if refused is not None:
            answers[n] = _answer(item, None, refused.reason)
            continue
        source = in_language(sources[n], entry["contact"].get("language"))
        rendered = _rendered(n, item, source, entry["variables"], settings)
        new.append((n, rendered, entry["contact"]))
    with transaction() as session:
        admitted = []
        verdicts = limits.admit(session, [(m, contact) for _, m, contact in new])
        for (n, message, _), verdict in zip(new, verdicts, strict=True):
            if verdict.refused:
                answers[n] = _answer(items[n], None, verdict.refused)
            else:
                admitted.append((n, replace(message, held_until=verdict.held_until)))
        queued = {m.id for m in store_queued(session, [m for _, m in admitted], actor)}
        # Keys another caller stored between our read and our write: theirs stands.
        taken = [m.dedupe_key for _, m in admitted if m.id not in queued]
        raced = _stored(session, taken) if taken else {}
    for n, message in admitted:
        winner = message if message.id in queued else raced[message.dedupe_key]
        answers[n] = _answer(items[n], winner.id, None, winner.held_until)
    return answers  # type: ignore[return-value]
