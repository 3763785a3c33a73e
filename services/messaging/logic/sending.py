"""Sending and resending: find the contact (contacts RPC), check that it may receive
the message, render it, store it and queue it for its channel's sender.

`transaction` opens a unit of work (services.messaging's Database), `contacts` is the
contacts service (services.messaging.ports.ContactsPort)."""

from __future__ import annotations

from dataclasses import replace

from plexus.contract.messages import MessageInput
from plexus.errors import Conflict, Invalid, NotFound
from plexus.parsing import load
from services.messaging.logic import limits, messages, templates
from services.messaging.logic.eligibility import refusal
from services.messaging.logic.queueing import QUEUED, NewMessage, store_queued
from services.messaging.logic.rendering import Limits, render
from services.messaging.logic.templates import TITLED_CHANNELS, template_or_404
from services.messaging.logic.variables import template_context
from services.messaging.models import Template
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings


def find_contact(contacts: ContactsPort, ref: dict) -> dict:
    """The contact named by its id or identifiers (all given must hold)."""
    identifiers = {k: v for k, v in ref.items() if k != "id" and v is not None}
    try:
        if not identifiers:
            return contacts.get_contact(ref["id"])
        found = contacts.find_contacts(**identifiers)
    except (NotFound, Invalid):
        found = []
    found = [c for c in found if ref.get("id") in (None, c["id"])]
    if not found:
        raise Invalid("no contact matches", {"contact": ["no contact matches"]})
    return found[0]


def render_content(channel: str, source: dict, context: dict, limits: Limits) -> dict:
    """The message as the contact will read it. Email keeps subject / text / html (HTML
    escapes what it inserts); every other channel has one body, app push with its
    subject (the notification's title) when it has one."""

    def text(field: str, html: bool = False) -> str | None:
        value = source.get(field)
        return (
            render(value, context, html=html, limits=limits, field=f"content.{field}")
            if value
            else None
        )

    if channel == "email":
        return {
            k: v
            for k, v in (
                ("subject", text("subject")),
                ("text", text("text")),
                ("html", text("html", html=True)),
            )
            if v is not None
        }
    body = source.get("body") or source.get("text")
    rendered = {"body": render(body, context, limits=limits, field="content.body")}
    title = text("subject") if channel in TITLED_CHANNELS else None
    return {"subject": title, **rendered} if title else rendered


def template_source(
    template: Template, channel: str, field: str = "template_id"
) -> dict[str | None, dict]:
    """What a message on `channel` renders from this template, by language (None: the
    template's own text; templates.in_language picks); Invalid or Conflict naming
    `field` when the template cannot make it."""
    if template.channel != channel:
        raise Invalid(
            f"the template is for {template.channel}",
            {field: [f"a {template.channel} template"]},
        )
    if channel == "viber" and not template.approved:
        raise Conflict("viber sends approved templates only", {field: ["not approved"]})
    return templates.texts_by_language(template)


def _template_source(transaction, template_id: str, channel: str) -> dict[str | None, dict]:
    with transaction() as session:
        return template_source(template_or_404(session, template_id), channel)


def _require_eligible(contact: dict, channel: str, category: str | None) -> None:
    refused = refusal(contact, channel, category)
    if refused:
        raise Conflict(refused.detail, {"contact": [refused.detail]})


def send_message(transaction, contacts: ContactsPort, settings: Settings, data, actor: str) -> dict:
    request = load(MessageInput(), data)
    channel = request["channel"]
    if request["template_id"]:
        texts = _template_source(transaction, request["template_id"], channel)
    elif channel == "viber":
        raise Conflict(
            "viber sends approved templates only", {"template_id": ["required for viber"]}
        )
    else:
        texts = {None: request["content"]}
    contact = find_contact(contacts, request["contact"])
    _require_eligible(contact, channel, request["category"])
    source = templates.in_language(texts, contact.get("language"))
    variables = contacts.contact_variables(contact["id"])
    content = render_content(
        channel, source, template_context(variables, request["data"]), settings.limits
    )
    message = NewMessage(
        contact_id=contact["id"],
        channel=channel,
        origin=request["origin"],
        category=request["category"],
        template_id=request["template_id"],
        content=content,
    )
    with transaction() as session:
        (verdict,) = limits.admit(session, [(message, contact)])
        if verdict.refused:
            raise Conflict(verdict.detail(), {"contact": [verdict.detail()]})
        store_queued(session, [replace(message, held_until=verdict.held_until)], actor)
    return {"id": message.id, "status": QUEUED}


def resend_message(transaction, contacts: ContactsPort, message_id: str, actor: str) -> dict:
    """A new message with the same content, to the same contact if it may still
    receive it; linked to the original by `resend_of`."""
    with transaction() as session:
        original = messages.get_message(session, message_id)
    contact = contacts.get_contact(original["contact_id"])
    _require_eligible(contact, original["channel"], original["category"])
    with transaction() as session:
        return messages.queue_message(
            session,
            contact_id=contact["id"],
            channel=original["channel"],
            origin=original["origin"],
            category=original["category"],
            template_id=original["template_id"],
            resend_of=original["id"],
            content=original["content"],
            actor=actor,
        )
