"""A contact's feed as the e2e and browser tests read it: which (type, message) pairs a
channel shows."""

from __future__ import annotations

from tests.polling import wait_for


def feed_types(suite, contact_id: str, channel: str) -> set[tuple[str, str | None]]:
    """(type, message_id) of the contact's feed items on a channel."""
    items = (
        suite.http()
        .get(
            f"{suite.url}/v1/contacts/{contact_id}/activity",
            params={"channel": channel, "limit": 200},
            timeout=15,
        )
        .json()["data"]
    )
    return {(i["type"], i.get("message_id")) for i in items}


def wait_feed(suite, contact_id: str, channel: str, wanted: set[tuple[str, str | None]]):
    return wait_for(
        lambda: wanted <= feed_types(suite, contact_id, channel),
        30,
        f"{sorted(wanted)} in the {channel} feed",
    )
