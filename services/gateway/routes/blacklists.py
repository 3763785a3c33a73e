"""/v1/blacklists/{list}: the account's black lists of addresses (email, phone, viber),
forwarded to the contacts service, which reads each address as a contact's own (an
email lower-cased, a phone in E.164) and names `value` when it is none."""

from __future__ import annotations

from plexus.contract import contacts as schemas
from plexus.contract.services import CONTACTS
from services.gateway.routes.call import Call
from services.gateway.web.requests import page_args
from services.gateway.web.routing import Answer, Route

READ, WRITE = "contacts:read", "contacts:write"


def list_blacklist(c: Call):
    return c.rpc(
        CONTACTS, "list_blacklist", c.params["list_name"], q=c.args.get("q"), **page_args(c.args)
    )


def put_blacklist_entry(c: Call):
    return c.rpc(
        CONTACTS,
        "put_blacklist_entry",
        c.params["list_name"],
        c.params["value"],
        c.body or {},
        c.actor,
    )


def delete_blacklist_entry(c: Call):
    c.rpc(CONTACTS, "delete_blacklist_entry", c.params["list_name"], c.params["value"], c.actor)
    return Answer(204)


LIST = "/v1/blacklists/<list_name>"
# `path:`: a Viber user id may hold a slash (it is base64).
ENTRY = LIST + "/<path:value>"
T = "blacklists"
LISTS = "`email` (addresses), `phone` (E.164 numbers) or `viber` (Viber user ids)"

BLACKLIST_ROUTES = (
    Route(
        "GET",
        LIST,
        list_blacklist,
        f"The addresses on a black list: {LISTS}; in address order",
        READ,
        T,
        response=schemas.BlacklistedAddress,
        many=True,
        query={
            "q": "only addresses starting with this (an email's in lower case)",
            "limit": "page size, 1 to 200 (default 50)",
            "cursor": "next_cursor of the last page",
        },
    ),
    Route(
        "PUT",
        ENTRY,
        put_blacklist_entry,
        "Put an address on a black list, whether or not a contact has it (one already "
        "there keeps its date and source, and takes the reason)",
        WRITE,
        T,
        body=schemas.BlacklistInput,
        body_optional=True,
        response=schemas.BlacklistedAddress,
    ),
    Route(
        "DELETE",
        ENTRY,
        delete_blacklist_entry,
        "Take an address off a black list",
        WRITE,
        T,
        status=204,
    ),
)
