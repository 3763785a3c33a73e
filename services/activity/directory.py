"""Who a posted event is about: the contact an id or identifier names, asked of the
contacts service by RPC with a deadline. A batch asks for each distinct contact once,
several at a time, so that 1,000 events resolve well within the gateway's deadline."""

from __future__ import annotations

import eventlet

from plexus.errors import NotFound, PlexusError, Unavailable

CONTACTS = "contacts"
CONCURRENCY = 10


class ContactDirectory:
    def __init__(self, call):
        self.call = call  # plexus.rpc.RpcCaller

    def resolve(self, ref: dict) -> str:
        """The contact's id: by `id` when given, else by every identifier given."""
        if ref.get("id"):
            return self.call(CONTACTS, "get_contact", ref["id"])["id"]
        found = self.call(CONTACTS, "find_contacts", user_id=ref.get("user_id"),
                          email=ref.get("email"), phone=ref.get("phone"))["data"]
        if len(found) != 1:
            raise NotFound("no such contact")
        return found[0]["id"]

    def _attempt(self, ref: dict) -> str | PlexusError:
        try:
            return self.resolve(ref)
        except Unavailable:
            raise
        except PlexusError as error:  # NotFound, Invalid (a malformed phone)
            return error

    def resolve_many(self, refs: list[dict]) -> list[str | PlexusError]:
        """For each ref, the contact id or the error saying why there is none. Contacts
        not answering fails the whole call (Unavailable)."""
        keys = [tuple(sorted(ref.items())) for ref in refs]
        distinct = list(dict.fromkeys(keys))
        pool = eventlet.GreenPool(CONCURRENCY)
        answers = dict(zip(distinct, pool.imap(lambda key: self._attempt(dict(key)), distinct),
                           strict=True))
        return [answers[key] for key in keys]
