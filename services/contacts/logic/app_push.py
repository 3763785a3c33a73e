"""A contact's mobile app device tokens (FCM registration tokens), the addresses of the
app_push channel: registered by the app (through the API), listed in the contact
resource, read and dropped by the app_push sender (a token FCM calls UNREGISTERED). The
first token subscribes the channel, as the first address of any channel does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.contacts import AppPushTokenInput
from plexus.errors import Invalid, NotFound
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.channels import announce_channels, taken
from services.contacts.logic.conflicts import flush
from services.contacts.logic.lookup import contact_or_404
from services.contacts.logic.representation import app_push_resource
from services.contacts.logic.subscriptions import subscribe_new_addresses
from services.contacts.models import AppPushToken

CHANNEL = "app_push"
# A person's phones and tablets, with room for reinstalls whose old token FCM has not yet
# called dead; it also bounds the FCM requests one message makes.
MAX_APP_PUSH_TOKENS = 10


def add_app_push_token(session: Session, contact_id: str, data, actor: str) -> dict:
    """Register a device; the same token again changes nothing (an app registers at each
    start), or moves to the platform and app it now names. A token another contact
    holds is a Conflict naming `token`: a device changes hands by its app deleting it."""
    wanted = load(AppPushTokenInput(), data)
    contact = contact_or_404(session, contact_id, lock=True)
    token = session.scalar(select(AppPushToken).where(AppPushToken.token == wanted["token"]))
    if token is not None and token.contact_id != contact.id:
        raise taken("token")
    if token is not None:
        if (token.platform, token.app) == (wanted["platform"], wanted["app"]):
            return app_push_resource(token)
        token.platform, token.app = wanted["platform"], wanted["app"]
        now = utcnow()
        subscribed = []
    else:
        if len(contact.app_push_tokens) >= MAX_APP_PUSH_TOKENS:
            message = (
                f"a contact has at most {MAX_APP_PUSH_TOKENS} app push tokens; remove one first"
            )
            raise Invalid(message, {"token": [message]})
        now = utcnow()
        token = AppPushToken(**wanted, created_at=now)
        contact.app_push_tokens.append(token)
        subscribed = subscribe_new_addresses(session, contact, [CHANNEL], actor, now)
    contact.updated_at = now
    flush(session, {"token": "token"})
    announce_channels(session, contact, subscribed, actor)
    return app_push_resource(token)


def app_push_tokens(session: Session, contact_id: str) -> list[dict]:
    """The contact's tokens, oldest first (the app_push sender's)."""
    contact = contact_or_404(session, contact_id, whole=False)
    query = select(AppPushToken).where(AppPushToken.contact_id == contact.id)
    return [app_push_resource(row) for row in session.scalars(query.order_by(AppPushToken.id))]


def remove_app_push_token(session: Session, contact_id: str, token_id: str, actor: str) -> None:
    contact = contact_or_404(session, contact_id)
    token = next((row for row in contact.app_push_tokens if row.id == token_id), None)
    if token is None:
        raise NotFound("no such app push token")
    contact.app_push_tokens.remove(token)
    contact.updated_at = utcnow()
    flush(session)
    announce_channels(session, contact, [], actor)
