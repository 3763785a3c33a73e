"""The public subscription form, with double opt-in: no API key. A web page posts
/forms/subscribe (from the browser: CORS for FORMS.allowed_origins); the person
follows the emailed link to /forms/confirm/<token>. Each client address draws on the
`forms` client rate limit; one address (email) is sent one confirmation per
FORMS.confirmation_interval_seconds. The contacts service decides the rest."""

from __future__ import annotations

import html

from plexus.contract import forms as schemas
from plexus.contract.services import CONTACTS
from plexus.errors import Gone, Invalid, NotFound, Unavailable
from services.gateway.routes.call import Call
from services.gateway.web.pages import HTML_TYPE, page
from services.gateway.web.routing import Answer, Route

FORMS = "forms"
# What a person who followed a link reads, for the links that do not work.
LINK_TROUBLE = {
    NotFound: (
        "This link is not valid",
        "<p>Copy the whole link from the email, or subscribe again.</p>",
    ),
    Gone: ("This link has expired", "<p>Subscribe again to get a new one.</p>"),
}


def subscribe(c: Call):
    email = c.body.get("email")
    clients, replicas = c.admission.clients, c.admission.replicas
    counted = isinstance(email, str) and bool(email.strip())
    send = clients.confirmation_due(email, replicas) if counted else True
    try:
        c.rpc(CONTACTS, "form_subscribe", c.body, send=send)
    except (Invalid, Unavailable):
        # A form to correct, or one to post again later, sent nothing: it does not spend
        # the address's turn.
        if counted and send:
            clients.confirmation_not_sent(email, replicas)
        raise
    return Answer(202, {"status": "accepted"})


def preflight(_c: Call):
    return Answer(204)  # the CORS headers are the answer (app.handle adds them)


def _confirmed_page(done: dict) -> str:
    return page(
        "Subscribed",
        (
            f"<p>Thank you: {html.escape(done['email'])} is subscribed to our emails.</p>"
            "<p>Each email has a link to unsubscribe.</p>"
        ),
    )


def confirm_page(c: Call):
    """A person followed the link: the answer is a page, a link that does not work too."""
    try:
        done = c.rpc(CONTACTS, "form_confirm", c.params["token"])
    except (NotFound, Gone) as error:
        title, text = LINK_TROUBLE[type(error)]
        return Answer(error.status, page(title, text), HTML_TYPE)
    return Answer(200, _confirmed_page(done), HTML_TYPE)


def confirm(c: Call):
    return c.rpc(CONTACTS, "form_confirm", c.params["token"])


FORM_ROUTES = (
    Route(
        "POST",
        "/forms/subscribe",
        subscribe,
        "Subscribe an address (double opt-in): 202, and a confirmation email unless the "
        "address is subscribed already, black-listed or was sent one lately",
        None,
        FORMS,
        body=schemas.FormSubscription,
        response=schemas.FormAccepted,
        status=202,
        client_limit=FORMS,
        cors=True,
    ),
    Route(
        "OPTIONS",
        "/forms/subscribe",
        preflight,
        "CORS preflight",
        None,
        FORMS,
        status=204,
        client_limit=FORMS,
        cors=True,
        api=False,
    ),
    Route(
        "GET",
        "/forms/confirm/<token>",
        confirm_page,
        "The emailed link: subscribes the address, answers a page (404/410 pages for a "
        "bad or expired link)",
        None,
        FORMS,
        client_limit=FORMS,
        html=True,
        extra_errors=("410",),
    ),
    Route(
        "POST",
        "/forms/confirm/<token>",
        confirm,
        "The same as JSON (a page's script): subscribes the address",
        None,
        FORMS,
        response=schemas.FormConfirmed,
        client_limit=FORMS,
        extra_errors=("410",),
    ),
)
