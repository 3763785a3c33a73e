"""What segments' code asks of other services, over an RPC caller (plexus.rpc.RpcCaller:
every call with a deadline): the only place it reaches another service. Tests hand the
logic fakes with the same methods."""

from __future__ import annotations

from plexus.contract.services import ACTIVITY, CONTACTS
from plexus.errors import NotFound

CONTACTS_PAGE = 200  # find_contacts' largest page
COUNTS_PAGE = 500  # contacts a page of activity's daily_counts


class ContactsPort:
    def __init__(self, call):
        self.call = call

    def get_contact(self, contact_id: str) -> dict | None:
        """The contact (an event came before its contact_created), or None when contacts
        does not know it (erased)."""
        try:
            return self.call(CONTACTS, "get_contact", contact_id)
        except NotFound:
            return None

    def contacts_page(self, cursor: str | None) -> dict:
        """Every contact, a page at a time (a rebuild reads them all)."""
        return self.call(CONTACTS, "find_contacts", limit=CONTACTS_PAGE, cursor=cursor)


class ActivityPort:
    def __init__(self, call):
        self.call = call

    def daily_counts_page(self, cursor: str | None) -> dict:
        """Activity counted by contact and day, a page of contacts at a time."""
        return self.call(ACTIVITY, "daily_counts", cursor=cursor, size=COUNTS_PAGE)
