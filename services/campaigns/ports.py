"""What campaigns' code asks of other services, over an RPC caller (plexus.rpc: every
call with a deadline): the only place it reaches another service. Tests hand the logic
fakes with the same methods."""

from __future__ import annotations

from plexus.contract.services import CONTACTS, MESSAGING, SEGMENTS
from plexus.errors import NotFound

MEMBERS_PAGE = 200  # segments' members: its largest page
SENDING_LOOKUP = 500  # contacts_for_sending: ids a call


class MessagingPort:
    def __init__(self, call):
        self.call = call

    def template(self, template_id: str) -> dict | None:
        try:
            return self.call(MESSAGING, "get_template", template_id)
        except NotFound:
            return None

    def queue_batch(self, items: list[dict], actor: str) -> list[dict]:
        """One answer an item, in order; the same `key` again answers the message it
        queued then, and queues nothing new."""
        return self.call(MESSAGING, "queue_batch", items, actor)


class SegmentsPort:
    def __init__(self, call):
        self.call = call

    def exists(self, segment_id: str) -> bool:
        try:
            self.call(SEGMENTS, "get_segment", segment_id)
        except NotFound:
            return False
        return True

    def members_page(self, segment_id: str, cursor: str | None) -> dict:
        """{"data": [contact_id], "next_cursor"} in id order; NotFound once deleted."""
        return self.call(SEGMENTS, "members", segment_id, limit=MEMBERS_PAGE, cursor=cursor)


class ContactsPort:
    def __init__(self, call):
        self.call = call

    def timezones(self, contact_ids: list[str]) -> dict[str, str | None]:
        """Each contact's `timezone` (None when it has none, or contacts does not know
        it any more)."""
        found: dict[str, str | None] = {}
        for start in range(0, len(contact_ids), SENDING_LOOKUP):
            chunk = contact_ids[start : start + SENDING_LOOKUP]
            answers = self.call(CONTACTS, "contacts_for_sending", chunk) or {}
            for contact_id in chunk:
                entry = answers.get(contact_id) or {}
                found[contact_id] = (entry.get("contact") or {}).get("timezone")
        return found
