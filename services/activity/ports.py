"""What activity's logic asks of other services, over the worker's RPC caller
(plexus.rpc.RpcCaller, every call with a deadline): the only place its logic reaches
another service. Tests hand the logic fakes with the same methods."""

from __future__ import annotations

from plexus.contract.services import CONTACTS, MESSAGING
from plexus.errors import Conflict, Invalid, NotFound, PlexusError

# What one RPC may ask about: the largest batch a client may post.
CHUNK = 1000


def _answer(found: dict) -> str | PlexusError:
    if "id" in found:
        return found["id"]
    if "invalid" in found:
        return Invalid("invalid contact reference", found["invalid"])
    if "conflict" in found:
        return Conflict("the identifiers belong to different contacts", found["conflict"])
    return NotFound("no such contact")


class ContactsPort:
    def __init__(self, call):
        self.call = call  # plexus.rpc.RpcCaller

    def resolve_many(
        self, refs: list[dict], creating: list[str | None] | None = None, actor: str = "system"
    ) -> list[str | PlexusError]:
        """Who posted events are about: for each ref (an id or an identifier), the contact
        id or the error saying why there is none. `creating` (one a ref: None, `event` or
        `order`) has contacts make the contact a ref names by identifiers when none has
        them, as arrived by that (created_via). A batch asks once for its distinct
        contacts (contacts' resolve_refs answers them in a few queries), so 1,000 events
        cost one round trip, not one a contact (two when some may be made and some not).
        Contacts not answering fails the whole call (Unavailable)."""
        creating = creating or [None] * len(refs)
        keys = [(tuple(sorted(ref.items())), via) for ref, via in zip(refs, creating, strict=True)]
        distinct = list(dict.fromkeys(keys))
        answers: dict[tuple, str | PlexusError] = {}
        for via in dict.fromkeys(key[1] for key in distinct):
            asked = [key for key in distinct if key[1] == via]
            extra = {"created_via": via, "actor": actor} if via else {}
            for start in range(0, len(asked), CHUNK):
                chunk = asked[start : start + CHUNK]
                found = self.call(
                    CONTACTS, "resolve_refs", [dict(key[0]) for key in chunk], **extra
                )
                answers.update(zip(chunk, map(_answer, found), strict=True))
        return [answers[key] for key in keys]


class MessagingPort:
    def __init__(self, call):
        self.call = call

    def get_message(self, message_id: str) -> dict:
        return self.call(MESSAGING, "get_message", message_id)
