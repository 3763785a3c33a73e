"""The public subscription form, with double opt-in.

`subscribe`: a person (a web page, no API key) asks for an address to be subscribed. The
address becomes a contact at once if it is not one yet (`created_via` `form`), with its
email channel left `never`: nothing is sent to it but the confirmation email, which
messaging queues with the purpose `confirmation` (the one email the rule lets go to an
address that is not subscribed). The link in it carries the request, signed and with an
expiry (form_tokens). An address already subscribed, black-listed, suppressed before an
erasure, or of an inactive contact gets no email; the answer is the same either way, so
the form tells nobody whether an address is known.

`confirm`: the link followed. The email channel is subscribed with the ledger's reason
`double opt-in` (actor `form`) and the categories asked for are opted in to; a contact
erased meanwhile is created again from the request."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.forms import FormSubscription
from plexus.contract.services import MESSAGING
from plexus.errors import Conflict
from plexus.parsing import invalid, load
from plexus.timeutil import rfc3339, utcnow
from services.contacts.logic import subscriptions
from services.contacts.logic.addresses import resource_of
from services.contacts.logic.conflicts import flush
from services.contacts.logic.contacts import change, insert
from services.contacts.logic.form_tokens import make_token, read_token
from services.contacts.logic.identifiers import Owners
from services.contacts.logic.lookup import RESOURCE_PARTS
from services.contacts.logic.references import References
from services.contacts.logic.suppression import SUPPRESSED
from services.contacts.models import Contact
from services.contacts.settings import FormSettings

ACTOR = "form"
DOUBLE_OPT_IN = "double opt-in"
ACCEPTED = {"status": "accepted"}


def _by_email(session: Session, email: str) -> Contact | None:
    return session.scalars(
        select(Contact).where(Contact.email == email).options(*RESOURCE_PARTS)
    ).first()


def _chosen_categories(session: Session, names: list[str]) -> dict:
    """{name: True} for the categories asked for; each unknown one is 422 by name."""
    chosen = dict.fromkeys(names, True)
    errors = References.load(session, [{"categories": chosen}]).errors({"categories": chosen})
    if errors:
        raise invalid(errors)
    return chosen


def _new_contact(session: Session, request: dict, address_reason: str | None, **extra) -> Contact:
    """A contact made from the form (`created_via` `form`): the address, and what else it
    gave. `address_reason`: the ledger's reason for subscribing the address, or None to
    leave it `never` until it is confirmed."""
    values = {
        "email": request["email"],
        "first_name": request.get("first_name"),
        "language": request.get("language"),
        **extra,
    }
    values = {name: value for name, value in values.items() if value}
    return insert(
        session,
        values,
        Owners.load(session, [values]),
        ACTOR,
        created_via="form",
        address_reason=address_reason,
    )


def may_ask(contact: dict) -> bool:
    """Whether the contact (its resource: the black-list label as the resource shows it,
    whatever keeps it) may be sent a confirmation: it is not subscribed already, its
    address is not black-listed or suppressed, and it is active."""
    email = contact["subscriptions"]["email"]
    if email["status"] == "subscribed" or email["reason"] == SUPPRESSED:
        return False
    return not contact["blacklists"].get("email") and contact["status"] == "active"


def prepare(session: Session, data, settings: FormSettings, now: float) -> dict | None:
    """Check the request, make the contact if the address is new; what to ask messaging
    to send (`contact_id`, `token`, `expires_at`), or None when nothing may be sent."""
    request = load(FormSubscription(), data)
    _chosen_categories(session, request["categories"])
    contact = _by_email(session, request["email"])
    if contact is None:
        contact = _new_contact(session, request, address_reason=None)
    if not may_ask(resource_of(session, contact)):
        return None
    expires = now + settings.confirmation_hours * 3600
    return {
        "contact_id": contact.id,
        "token": make_token(settings.secret, request, expires),
        "expires_at": rfc3339(datetime.fromtimestamp(expires, UTC)),
    }


def subscribe(transaction, rpc, settings: FormSettings, data, send: bool = True) -> dict:
    """The form posted: `accepted` whatever is decided (nothing leaks). `send` false:
    the request is taken (the contact made) but no email goes out (the gateway's limit
    of one confirmation per address per interval)."""
    for attempt in range(2):
        try:
            with transaction() as session:
                pending = prepare(session, data, settings, time.time())
            break
        except Conflict:
            # The same new address posted twice at once: the other request stored it;
            # this one finds it the second time.
            if attempt:
                raise
    # Refused by the rule (black-listed meanwhile): there is nothing to tell anyone.
    if pending and send:
        with contextlib.suppress(Conflict):
            rpc(
                MESSAGING,
                "queue_confirmation",
                pending["contact_id"],
                pending["token"],
                pending["expires_at"],
                ACTOR,
            )
    return dict(ACCEPTED)


def confirm(session: Session, token: str, settings: FormSettings, now: float) -> dict:
    """Subscribe the address of a genuine, unexpired token (NotFound / Gone otherwise).
    Following the link again changes nothing."""
    request = read_token(settings.secret, token, now)
    chosen = dict.fromkeys(request.get("categories") or (), True)
    contact = _by_email(session, request["email"])
    if contact is None:  # erased since the form was sent
        _new_contact(session, request, DOUBLE_OPT_IN, categories=chosen)
    else:
        if chosen:
            change(session, contact, {"categories": chosen}, Owners(), ACTOR)
        moment = utcnow()
        changed = subscriptions.change(
            session, contact, "email", "subscribed", DOUBLE_OPT_IN, ACTOR, moment
        )
        if changed:
            contact.updated_at = moment
            flush(session)
            subscriptions.announce(session, [changed], ACTOR)
    return {"status": "subscribed", "email": request["email"], "categories": sorted(chosen)}
