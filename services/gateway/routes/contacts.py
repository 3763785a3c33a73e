"""/v1/contacts, /v1/variables, /v1/sources, /v1/categories: each forwarded to the
contacts service, which validates the body against plexus.contract.contacts."""

from __future__ import annotations

from urllib.parse import quote

from plexus.contract import contacts as schemas
from plexus.contract.services import CONTACTS
from plexus.errors import Invalid
from services.gateway.routes.call import Call
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Answer, Route

READ, WRITE, ADMIN = "contacts:read", "contacts:write", "admin"
NO_CONTENT = Answer(204)
LOOKUP = ("user_id", "email", "phone", "region")
FILTERS = ("status", "subscribed", "name")


def _created(resource: dict, location: str) -> Answer:
    return Answer(201, resource, {"Location": location})


def _segment(name: str) -> str:
    """A name as one path segment of a Location: percent-encoded, as it may hold what a
    header may not (non-Latin-1 letters) and what a path may not ("/", "?")."""
    return quote(name, safe="")


def create_contact(c: Call):
    contact = c.rpc(CONTACTS, "create_contact", c.body, c.actor)
    return _created(contact, f"/v1/contacts/{contact['id']}")


def batch_upsert(c: Call):
    unknown = sorted(set(c.body) - {"contacts"})
    if unknown:
        raise Invalid("unknown fields in the body", {name: ["unknown field"] for name in unknown})
    return c.rpc(CONTACTS, "batch_upsert", c.body.get("contacts"), c.actor)


def find_contacts(c: Call):
    lookup = {name: c.args.get(name) for name in (*LOOKUP, *FILTERS)}
    return c.rpc(CONTACTS, "find_contacts", **lookup, **page_args(c.args))


def get_contact(c: Call):
    return c.rpc(CONTACTS, "get_contact", c.params["contact_id"])


def update_contact(c: Call):
    return c.rpc(CONTACTS, "update_contact", c.params["contact_id"], c.body, c.actor)


def delete_contact(c: Call):
    c.rpc(CONTACTS, "delete_contact", c.params["contact_id"], c.actor)
    return NO_CONTENT


def activate(c: Call):
    return c.rpc(CONTACTS, "set_status", c.params["contact_id"], "active", c.actor)


def deactivate(c: Call):
    return c.rpc(CONTACTS, "set_status", c.params["contact_id"], "inactive", c.actor)


def add_to_blacklist(c: Call):
    return c.rpc(
        CONTACTS,
        "add_to_blacklist",
        c.params["contact_id"],
        c.params["list_name"],
        c.body or {},
        c.actor,
    )


def remove_from_blacklist(c: Call):
    return c.rpc(
        CONTACTS, "remove_from_blacklist", c.params["contact_id"], c.params["list_name"], c.actor
    )


def set_subscription(c: Call):
    return c.rpc(
        CONTACTS, "set_subscription", c.params["contact_id"], c.params["channel"], c.body, c.actor
    )


def subscription_history(c: Call):
    return c.rpc(CONTACTS, "subscription_history", c.params["contact_id"], **page_args(c.args))


def set_telegram(c: Call):
    return c.rpc(
        CONTACTS, "set_channel_address", c.params["contact_id"], "telegram", c.body, c.actor
    )


def set_viber(c: Call):
    return c.rpc(CONTACTS, "set_channel_address", c.params["contact_id"], "viber", c.body, c.actor)


def add_webpush(c: Call):
    contact_id = c.params["contact_id"]
    subscription = c.rpc(CONTACTS, "add_webpush_subscription", contact_id, c.body, c.actor)
    return _created(
        subscription, f"/v1/contacts/{contact_id}/channels/webpush/{subscription['id']}"
    )


def remove_webpush(c: Call):
    c.rpc(
        CONTACTS,
        "remove_webpush_subscription",
        c.params["contact_id"],
        c.params["subscription_id"],
        c.actor,
    )
    return NO_CONTENT


def add_app_push(c: Call):
    contact_id = c.params["contact_id"]
    token = c.rpc(CONTACTS, "add_app_push_token", contact_id, c.body, c.actor)
    return _created(token, f"/v1/contacts/{contact_id}/channels/app_push/{token['id']}")


def remove_app_push(c: Call):
    c.rpc(
        CONTACTS,
        "remove_app_push_token",
        c.params["contact_id"],
        c.params["token_id"],
        c.actor,
    )
    return NO_CONTENT


def list_notes(c: Call):
    return c.rpc(CONTACTS, "list_notes", c.params["contact_id"])


def add_note(c: Call):
    contact_id = c.params["contact_id"]
    note = c.rpc(CONTACTS, "add_note", contact_id, c.body, c.actor)
    return _created(note, f"/v1/contacts/{contact_id}/notes/{note['id']}")


def delete_note(c: Call):
    c.rpc(CONTACTS, "delete_note", c.params["contact_id"], c.params["note_id"], c.actor)
    return NO_CONTENT


def contact_variables(c: Call):
    return c.rpc(CONTACTS, "contact_variables", c.params["contact_id"], q=c.args.get("q"))


def list_variables(c: Call):
    return c.rpc(CONTACTS, "list_variables", **page_args(c.args))


def create_variable(c: Call):
    variable = c.rpc(CONTACTS, "create_variable", c.body, c.actor)
    return _created(variable, f"/v1/variables/{_segment(variable['name'])}")


def get_variable(c: Call):
    return c.rpc(CONTACTS, "get_variable", c.params["name"])


def update_variable(c: Call):
    return c.rpc(CONTACTS, "update_variable", c.params["name"], c.body, c.actor)


def list_sources(c: Call):
    return c.rpc(CONTACTS, "list_sources", **page_args(c.args))


def create_source(c: Call):
    source = c.rpc(CONTACTS, "create_source", c.body, c.actor)
    return _created(source, f"/v1/sources/{_segment(source['name'])}")


def list_categories(c: Call):
    return c.rpc(CONTACTS, "list_categories", **page_args(c.args))


def create_category(c: Call):
    category = c.rpc(CONTACTS, "create_category", c.body, c.actor)
    return _created(category, f"/v1/categories/{_segment(category['name'])}")


ONE = "/v1/contacts/<contact_id>"
T = "contacts"

CONTACT_ROUTES = (
    Route(
        "POST",
        "/v1/contacts",
        create_contact,
        "Create a contact",
        WRITE,
        T,
        body=schemas.ContactCreate,
        response=schemas.Contact,
        status=201,
    ),
    Route(
        "POST",
        "/v1/contacts/batch",
        batch_upsert,
        "Create or update up to 1,000 contacts (matched by user_id, else email, else phone)",
        WRITE,
        T,
        body=schemas.ContactBatch,
        response=schemas.BatchResult,
        body_limit="max_batch_body_bytes",
    ),
    Route(
        "GET",
        "/v1/contacts",
        find_contacts,
        "Look a contact up by any identifier, or list all, newest first",
        READ,
        T,
        response=schemas.Contact,
        many=True,
        query={
            "user_id": "the customer's own id",
            "email": "case-insensitive",
            "phone": "E.164, or national with region",
            "region": "ISO 3166-1 alpha-2",
            "status": "only contacts of this status: active or inactive",
            "subscribed": "only contacts subscribed to this channel now",
            "name": "only contacts whose first or last name starts with this (any case)",
            **PAGE,
        },
    ),
    Route("GET", ONE, get_contact, "Get one contact", READ, T, response=schemas.Contact),
    Route(
        "PATCH",
        ONE,
        update_contact,
        "Update some fields; null clears",
        WRITE,
        T,
        body=schemas.ContactUpdate,
        response=schemas.Contact,
    ),
    Route(
        "DELETE",
        ONE,
        delete_contact,
        "Erase a contact everywhere (GDPR); no restore",
        WRITE,
        T,
        status=204,
        erases="contact_id",
    ),
    Route(
        "POST",
        ONE + "/activate",
        activate,
        "Activate: the contact may be sent messages",
        WRITE,
        T,
        response=schemas.Contact,
    ),
    Route(
        "POST",
        ONE + "/deactivate",
        deactivate,
        "Deactivate: the contact is sent nothing",
        WRITE,
        T,
        response=schemas.Contact,
    ),
    Route(
        "PUT",
        ONE + "/blacklists/<list_name>",
        add_to_blacklist,
        "Put the contact's current email, phone or Viber user id on that black list "
        "(409 when it has none)",
        WRITE,
        T,
        body=schemas.BlacklistInput,
        body_optional=True,
        response=schemas.Contact,
    ),
    Route(
        "DELETE",
        ONE + "/blacklists/<list_name>",
        remove_from_blacklist,
        "Take the contact's current address off that black list (409 when it has none)",
        WRITE,
        T,
        response=schemas.Contact,
    ),
    Route(
        "PUT",
        ONE + "/subscriptions/<channel>",
        set_subscription,
        "Subscribe or unsubscribe a channel",
        WRITE,
        T,
        body=schemas.SubscriptionInput,
        response=schemas.Contact,
    ),
    Route(
        "GET",
        ONE + "/subscriptions/history",
        subscription_history,
        "The consent ledger: every subscription change, newest first",
        READ,
        T,
        response=schemas.SubscriptionHistoryEntry,
        many=True,
        query=PAGE,
    ),
    Route(
        "PUT",
        ONE + "/channels/telegram",
        set_telegram,
        "Register the Telegram chat",
        WRITE,
        T,
        body=schemas.TelegramAddressInput,
        response=schemas.Contact,
    ),
    Route(
        "PUT",
        ONE + "/channels/viber",
        set_viber,
        "Register the Viber user",
        WRITE,
        T,
        body=schemas.ViberAddressInput,
        response=schemas.Contact,
    ),
    Route(
        "POST",
        ONE + "/channels/webpush",
        add_webpush,
        "Register a browser push subscription",
        WRITE,
        T,
        body=schemas.WebpushSubscriptionInput,
        response=schemas.WebpushSubscription,
        status=201,
    ),
    Route(
        "DELETE",
        ONE + "/channels/webpush/<subscription_id>",
        remove_webpush,
        "Remove a browser push subscription",
        WRITE,
        T,
        status=204,
    ),
    Route(
        "POST",
        ONE + "/channels/app_push",
        add_app_push,
        "Register a mobile app's device token (FCM); the same token again changes nothing",
        WRITE,
        T,
        body=schemas.AppPushTokenInput,
        response=schemas.AppPushToken,
        status=201,
    ),
    Route(
        "DELETE",
        ONE + "/channels/app_push/<token_id>",
        remove_app_push,
        "Remove a mobile app's device token",
        WRITE,
        T,
        status=204,
    ),
    Route(
        "GET",
        ONE + "/notes",
        list_notes,
        "The contact's notes (at most 5)",
        READ,
        T,
        response=schemas.Note,
        many=True,
    ),
    Route(
        "POST",
        ONE + "/notes",
        add_note,
        "Add a note (500 characters at most)",
        WRITE,
        T,
        body=schemas.NoteInput,
        response=schemas.Note,
        status=201,
    ),
    Route(
        "DELETE",
        ONE + "/notes/<note_id>",
        delete_note,
        "Delete a note; no recovery",
        WRITE,
        T,
        status=204,
    ),
    Route(
        "GET",
        ONE + "/variables",
        contact_variables,
        "Every variable usable in a message for this contact",
        READ,
        T,
        response=schemas.ContactVariable,
        many=True,
        query={"q": "only names containing this (case-insensitive)"},
    ),
    Route(
        "GET",
        "/v1/variables",
        list_variables,
        "Variable definitions",
        READ,
        "variables",
        response=schemas.Variable,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/variables",
        create_variable,
        "Define a variable",
        ADMIN,
        "variables",
        body=schemas.VariableInput,
        response=schemas.Variable,
        status=201,
    ),
    Route(
        "GET",
        "/v1/variables/<name>",
        get_variable,
        "One variable definition",
        READ,
        "variables",
        response=schemas.Variable,
    ),
    Route(
        "PATCH",
        "/v1/variables/<name>",
        update_variable,
        "Change a definition (an account variable's value)",
        ADMIN,
        "variables",
        body=schemas.VariableUpdate,
        response=schemas.Variable,
    ),
    Route(
        "GET",
        "/v1/sources",
        list_sources,
        "Acquisition sources",
        READ,
        "sources",
        response=schemas.Source,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/sources",
        create_source,
        "Register a source",
        ADMIN,
        "sources",
        body=schemas.SourceInput,
        response=schemas.Source,
        status=201,
    ),
    Route(
        "GET",
        "/v1/categories",
        list_categories,
        "Subscription categories",
        READ,
        "categories",
        response=schemas.Category,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/categories",
        create_category,
        "Register a subscription category",
        ADMIN,
        "categories",
        body=schemas.CategoryInput,
        response=schemas.Category,
        status=201,
    ),
)
