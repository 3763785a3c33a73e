"""Message templates: `{{ variable }}` bodies per channel; viber needs approved ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.messages import TemplateInput, TemplateUpdate
from plexus.errors import Invalid, NotFound
from plexus.paging import page
from plexus.parsing import load
from plexus.timeutil import rfc3339, utcnow
from services.messaging.logic.rendering import check_syntax
from services.messaging.models import Template


def template_resource(template: Template) -> dict:
    return {
        "id": template.id,
        "name": template.name,
        "channel": template.channel,
        "subject": template.subject,
        "body": template.body,
        "translations": dict(template.translations or {}),
        "approved": template.approved,
        "created_at": rfc3339(template.created_at),
        "updated_at": rfc3339(template.updated_at),
        **template.authorship(),
    }


def template_or_404(session: Session, template_id: str) -> Template:
    template = session.get(Template, str(template_id or ""))
    if template is None:
        raise NotFound(f"no template {template_id}")
    return template


def _check(data: dict) -> None:
    for field in ("subject", "body"):
        if data.get(field):
            check_syntax(data[field], field)
    for language, text in (data.get("translations") or {}).items():
        for field in ("subject", "body"):
            if text.get(field):
                check_syntax(text[field], f"translations.{language}.{field}")


# Channels whose message shows a title besides its body: the subject (app push's
# notification title).
TITLED_CHANNELS = ("app_push",)


def _text(channel: str, subject: str | None, body: str) -> dict:
    if channel == "email":
        return {"subject": subject, "html": body}
    if channel in TITLED_CHANNELS and subject:
        return {"subject": subject, "body": body}
    return {"body": body}


def texts_by_language(template: Template) -> dict[str | None, dict]:
    """The template's text (None) and each translation's, as a message on its channel
    renders them; a translation without a subject keeps the template's."""
    texts: dict[str | None, dict] = {None: _text(template.channel, template.subject, template.body)}
    for language, text in (template.translations or {}).items():
        texts[language] = _text(
            template.channel, text.get("subject") or template.subject, text["body"]
        )
    return texts


def in_language(texts: dict[str | None, dict], language: str | None) -> dict:
    """The text in the contact's language when the template has it, else its own."""
    return texts.get(language) or texts[None]


def create_template(session: Session, data: dict, actor: str) -> dict:
    fields = load(TemplateInput(), data)
    if fields["channel"] == "email" and not fields.get("subject"):
        raise Invalid("an email template needs a subject", {"subject": ["required for email"]})
    _check(fields)
    template = Template(**fields, created_by=actor, updated_by=actor)
    session.add(template)
    session.flush()
    return template_resource(template)


def get_template(session: Session, template_id: str) -> dict:
    return template_resource(template_or_404(session, template_id))


# What a person reads: a change to any makes an approved template a new text, to be
# approved again.
APPROVED_TEXT = ("subject", "body", "translations")


def update_template(session: Session, template_id: str, data: dict, actor: str) -> dict:
    """Change the fields given. A changed subject, body or translations withdraws the
    approval unless the same change sets `approved` (the gateway lets only admin keys
    set it)."""
    template = template_or_404(session, template_id)
    fields = load(TemplateUpdate(), data)
    _check(fields)
    text_changed = any(
        name in fields and fields[name] != getattr(template, name) for name in APPROVED_TEXT
    )
    if text_changed and "approved" not in fields:
        fields["approved"] = False
    for name, value in fields.items():
        setattr(template, name, value)
    template.updated_at, template.updated_by = utcnow(), actor
    return template_resource(template)


def list_templates(session: Session, limit: int = 50, cursor: str | None = None) -> dict:
    return page(
        session, select(Template), Template.id, limit, cursor, template_resource, newest_first=True
    )
