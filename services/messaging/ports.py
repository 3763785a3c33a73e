"""What messaging's logic and its senders ask of other services, over a worker's RPC
caller (plexus.rpc.RpcCaller: every call with a deadline): the only place messaging code
reaches another service. Tests hand the logic fakes with the same methods."""

from __future__ import annotations

import contextlib

from plexus.contract.services import CONTACTS, MESSAGING
from plexus.errors import NotFound


class ContactsPort:
    def __init__(self, call):
        self.call = call

    def get_contact(self, contact_id: str) -> dict:
        return self.call(CONTACTS, "get_contact", contact_id)

    def find_contacts(self, **identifiers) -> list[dict]:
        """The contacts holding every identifier given (one at most: they are unique)."""
        return self.call(CONTACTS, "find_contacts", **identifiers, limit=1)["data"]

    def contacts_for_sending(self, contact_ids: list[str]) -> dict[str, dict]:
        """{contact_id: {"contact": the resource's SENDING_FIELDS, "variables": {name:
        value}}} for those that exist (up to 500 ids: one queue_batch call)."""
        return self.call(CONTACTS, "contacts_for_sending", contact_ids)

    def contact_variables(self, contact_id: str) -> dict:
        """The contact's variables as {name: value}, in the order contacts lists them."""
        items = self.call(CONTACTS, "contact_variables", contact_id)["data"]
        return {item["name"]: item["value"] for item in items}

    def set_subscription(self, contact_id: str, channel: str, data: dict, actor: str) -> dict:
        return self.call(CONTACTS, "set_subscription", contact_id, channel, data, actor)

    def blacklist_address(
        self, list_name: str, value: str, reason: str, source: str, actor: str
    ) -> dict:
        return self.call(CONTACTS, "blacklist_address", list_name, value, reason, source, actor)

    def webpush_subscriptions(self, contact_id: str, device: str) -> list[dict]:
        """The contact's push subscriptions of that device, with their keys."""
        return self.call(CONTACTS, "webpush_subscriptions", contact_id, device)

    def remove_webpush_subscription(
        self, contact_id: str, subscription_id: str, actor: str
    ) -> None:
        # NotFound: removed already, by the user or by an earlier try of this message.
        with contextlib.suppress(NotFound):
            self.call(CONTACTS, "remove_webpush_subscription", contact_id, subscription_id, actor)

    def app_push_tokens(self, contact_id: str) -> list[dict]:
        """The contact's app device tokens, oldest first."""
        return self.call(CONTACTS, "app_push_tokens", contact_id)

    def remove_app_push_token(self, contact_id: str, token_id: str, actor: str) -> None:
        # NotFound: removed already, by the app or by an earlier try of this message.
        with contextlib.suppress(NotFound):
            self.call(CONTACTS, "remove_app_push_token", contact_id, token_id, actor)


class MessagingPort:
    """The two messaging RPCs a sender makes."""

    def __init__(self, call):
        self.call = call

    def claim(self, message_id: str, limit: dict | None = None) -> dict:
        """`limit`: the sender's rate limit, whose next slot the claim takes."""
        if limit is None:  # the call a messaging without shared rate limits knows
            return self.call(MESSAGING, "claim_delivery", message_id)
        return self.call(MESSAGING, "claim_delivery", message_id, limit)

    def report(self, message_id: str, status: str, details: dict) -> None:
        self.call(MESSAGING, "report_delivery", message_id, status, details)
