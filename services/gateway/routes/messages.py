"""/v1/messages and /v1/templates (forwarded to the messaging service, which validates
with plexus.contract.messages), the tracking links /t/o/, /t/c/, /t/u/, the web push
reports /t/p/ and the provider webhooks. These last need no API key: messaging checks
the signed token or the provider's signature."""

from __future__ import annotations

import html

from plexus.contract import messages as schemas
from plexus.contract.services import MESSAGING
from services.gateway.routes.call import Call
from services.gateway.web.pages import HTML_TYPE, NO_STORE, page
from services.gateway.web.problems import HttpProblem
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Answer, Route

SEND, READ, ADMIN = "messages:send", "activity:read", "admin"
# A transparent 1x1 GIF: the open pixel.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
    b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def send_message(c: Call):
    return Answer(202, c.rpc(MESSAGING, "send_message", c.body, c.actor))


def get_message(c: Call):
    return c.rpc(MESSAGING, "get_message", c.params["message_id"])


def resend_message(c: Call):
    return Answer(202, c.rpc(MESSAGING, "resend_message", c.params["message_id"], c.actor))


def list_templates(c: Call):
    return c.rpc(MESSAGING, "list_templates", **page_args(c.args))


def _approval_needs_admin(c: Call) -> None:
    """Approving a template (or withdrawing approval) is an admin's act: viber sends
    approved templates only, so `approved` is what lets a text reach people."""
    if "approved" in c.body and not c.principal.allows(ADMIN):
        raise HttpProblem(
            403,
            "Forbidden",
            "setting approved needs the scope 'admin'",
            {"approved": ["needs the admin scope"]},
        )


def create_template(c: Call):
    _approval_needs_admin(c)
    template = c.rpc(MESSAGING, "create_template", c.body, c.actor)
    return Answer(201, template, {"Location": f"/v1/templates/{template['id']}"})


def get_template(c: Call):
    return c.rpc(MESSAGING, "get_template", c.params["template_id"])


def update_template(c: Call):
    _approval_needs_admin(c)
    return c.rpc(MESSAGING, "update_template", c.params["template_id"], c.body, c.actor)


def track_open(c: Call):
    c.rpc(MESSAGING, "track_open", c.params["token"])
    return Answer(200, PIXEL, {"Content-Type": "image/gif", **NO_STORE})


def track_click(c: Call):
    # Only to the URL signed into the token: never an open redirect.
    url = c.rpc(MESSAGING, "track_click", c.params["token"])
    return Answer(302, "", {"Location": url, **NO_STORE})


def track_push(c: Call):
    body = c.body if isinstance(c.body, dict) else {}
    return c.rpc(MESSAGING, "track_push", c.params["token"], body.get("event"))


def confirm_unsubscribe(c: Call):
    # GET changes nothing (mail scanners follow links); the button POSTs, as RFC 8058's
    # one-click POST from the mail client does.
    target = c.rpc(MESSAGING, "unsubscribe_target", c.params["token"])
    channel = html.escape(target["channel"])
    return Answer(
        200,
        page(
            "Unsubscribe",
            (
                f"<p>Stop receiving {channel} messages from us?</p>"
                "<form method='post'><button type='submit'>Unsubscribe</button></form>"
            ),
        ),
        HTML_TYPE,
    )


def unsubscribe(c: Call):
    done = c.rpc(MESSAGING, "unsubscribe", c.params["token"])
    return Answer(
        200,
        page(
            "Unsubscribed",
            (f"<p>You will receive no more {html.escape(done['channel'])} messages from us.</p>"),
        ),
        HTML_TYPE,
    )


def webhook(c: Call):
    request = {
        "url": c.url,
        "body": c.raw_body.decode("utf-8", errors="replace"),
        "headers": {name.lower(): value for name, value in (c.headers or {}).items()},
    }
    result = c.rpc(MESSAGING, "handle_webhook", c.params["provider"], request)
    if not result["verified"]:
        raise HttpProblem(
            403,
            "Forbidden",
            "the signature does not match, or the time it signs is more than 5 minutes from ours",
        )
    return {"recorded": result["recorded"]}


T, TT = "messages", "tracking"

MESSAGE_ROUTES = (
    Route(
        "POST",
        "/v1/messages",
        send_message,
        "Send a message to a contact on one channel (202: queued)",
        SEND,
        T,
        body=schemas.MessageInput,
        response=schemas.Queued,
        status=202,
        rate_limit="send",
    ),
    Route(
        "GET",
        "/v1/messages/<message_id>",
        get_message,
        "A message with its status history",
        READ,
        T,
        response=schemas.Message,
    ),
    Route(
        "POST",
        "/v1/messages/<message_id>/resend",
        resend_message,
        "Send the same content again, as a new message linked to this one",
        SEND,
        T,
        response=schemas.Queued,
        status=202,
        rate_limit="send",
    ),
    Route(
        "GET",
        "/v1/templates",
        list_templates,
        "Message templates, newest first",
        SEND,
        "templates",
        response=schemas.Template,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/templates",
        create_template,
        "Create a template",
        SEND,
        "templates",
        body=schemas.TemplateInput,
        response=schemas.Template,
        status=201,
    ),
    Route(
        "GET",
        "/v1/templates/<template_id>",
        get_template,
        "One template",
        SEND,
        "templates",
        response=schemas.Template,
    ),
    Route(
        "PATCH",
        "/v1/templates/<template_id>",
        update_template,
        "Change a template",
        SEND,
        "templates",
        body=schemas.TemplateUpdate,
        response=schemas.Template,
    ),
    Route(
        "GET",
        "/t/o/<token>",
        track_open,
        "Email open pixel (signed token)",
        None,
        TT,
        client_limit=TT,
    ),
    Route(
        "GET",
        "/t/c/<token>",
        track_click,
        "A tracked link (email; SMS, Telegram and Viber text in a short form): records "
        "the click, redirects to the signed URL",
        None,
        TT,
        status=302,
        client_limit=TT,
    ),
    Route(
        "POST",
        "/t/p/<token>",
        track_push,
        "A web push's service worker reports its notification: delivered, click (an "
        "open too), dismissed or open; each counts once a message (signed token from "
        "the push payload)",
        None,
        TT,
        body=schemas.PushReport,
        response=schemas.PushReported,
        client_limit=TT,
    ),
    Route(
        "GET",
        "/t/u/<token>",
        confirm_unsubscribe,
        "Unsubscribe page (signed token)",
        None,
        TT,
        client_limit=TT,
    ),
    Route(
        "POST",
        "/t/u/<token>",
        unsubscribe,
        "One-click unsubscribe (RFC 8058)",
        None,
        TT,
        raw_body=True,
        client_limit=TT,
    ),
    Route(
        "POST",
        "/webhooks/<provider>",
        webhook,
        "Delivery receipts and bounces: twilio, telegram, viber, smtp (signed; the SMTP "
        "relay signs `<X-Plexus-Timestamp>.<body>`, Viber its body with its timestamp, "
        "each refused more than 5 minutes from now)",
        None,
        "webhooks",
        raw_body=True,
        client_limit="webhooks",
    ),
)
