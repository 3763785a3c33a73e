"""The subscription form's confirmation email: a message like any other (stored, queued
for the email sender, its statuses in its history), with the purpose `confirmation`, so
that it may go to an address that is not subscribed yet: asking for the subscription is
what it is for. Everything else of the rule still holds (an inactive contact, a
black-listed address, no address: nothing is sent).

The link is the contacts service's signed token on the gateway's /forms/confirm/; it is
not click-tracked (no redirect in front of a consent) and the email has no unsubscribe
link (it is the one email sent before any subscription)."""

from __future__ import annotations

import html

from plexus.errors import Conflict
from services.messaging.logic import messages
from services.messaging.logic.eligibility import CONFIRMATION, refusal
from services.messaging.ports import ContactsPort
from services.messaging.settings import Settings

CHANNEL = "email"
SUBJECT = "Please confirm your subscription"


def confirmation_content(url: str, expires_at: str) -> dict:
    """Subject, text and HTML of the email; `url` is the only link in it."""
    text = (
        "Someone, hopefully you, asked to subscribe this address to our emails.\n\n"
        f"To confirm, open this link (it works until {expires_at}):\n{url}\n\n"
        "If it was not you, ignore this email: the address will not be subscribed.\n"
    )
    link = html.escape(url, quote=True)
    page = (
        "<p>Someone, hopefully you, asked to subscribe this address to our emails.</p>"
        f'<p><a href="{link}">Confirm my subscription</a></p>'
        f"<p>The link works until {html.escape(expires_at)}. If it was not you, ignore "
        "this email: the address will not be subscribed.</p>"
    )
    return {"subject": SUBJECT, "text": text, "html": page}


def confirm_url(settings: Settings, token: str) -> str:
    return f"{settings.tracking_base_url.rstrip('/')}/forms/confirm/{token}"


def queue_confirmation(
    transaction,
    contacts: ContactsPort,
    settings: Settings,
    contact_id: str,
    token: str,
    expires_at: str,
    actor: str,
) -> dict:
    """Queue the confirmation email for the contact's current address; Conflict with the
    reason when the rule (purpose `confirmation`) refuses it. Its claim at send time
    judges it again with the same purpose (claims.py)."""
    contact = contacts.get_contact(contact_id)
    refused = refusal(contact, CHANNEL, purpose=CONFIRMATION)
    if refused:
        raise Conflict(refused.detail, {"contact": [refused.detail]})
    content = confirmation_content(confirm_url(settings, token), expires_at)
    with transaction() as session:
        return messages.queue_message(
            session,
            contact_id=contact["id"],
            channel=CHANNEL,
            origin="transaction",
            category=None,
            template_id=None,
            resend_of=None,
            content=content,
            actor=actor,
            purpose=CONFIRMATION,
        )
