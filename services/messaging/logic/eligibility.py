"""May this contact be sent a message on this channel? The one rule every send goes
through (the API's reasons: inactive, unsubscribed, black-listed, no address, opted
out of the category), over the contact resource as the contacts service answers it."""

from __future__ import annotations

# The purpose of a subscription form's confirmation email: it asks for the email
# subscription, so it cannot require it; everything else still holds.
CONFIRMATION = "confirmation"
PURPOSES = (CONFIRMATION,)

# Which of the contact's black lists bars which channel.
BLACKLIST_OF = {"email": "email", "sms": "phone", "viber": "viber"}
WEBPUSH_DEVICE = {"webpush_desktop": "desktop", "webpush_mobile": "mobile"}


def address(contact: dict, channel: str):
    """Where the message goes: an email, an E.164 phone, a chat id, a viber user id, or
    the browser push subscriptions of that device; None when there is none."""
    channels = contact.get("channels") or {}
    if channel == "email":
        return contact.get("email")
    if channel == "sms":
        return contact.get("phone")
    if channel == "telegram":
        return (channels.get("telegram") or {}).get("chat_id")
    if channel == "viber":
        return (channels.get("viber") or {}).get("user_id")
    device = WEBPUSH_DEVICE[channel]
    subscriptions = [s for s in channels.get("webpush") or [] if s.get("device") == device]
    return subscriptions or None


def refusal(contact: dict, channel: str, category: str | None = None,
            purpose: str | None = None) -> str | None:
    """Why the contact cannot receive it, or None when it can. `purpose` is the
    message's (messages.purpose): a `confirmation` needs no subscription."""
    if contact.get("status") != "active":
        return "the contact is inactive"
    subscription = (contact.get("subscriptions") or {}).get(channel) or {}
    if purpose != CONFIRMATION and subscription.get("status") != "subscribed":
        return f"the contact is not subscribed to {channel}"
    listed = BLACKLIST_OF.get(channel)
    if listed and (contact.get("blacklists") or {}).get(listed):
        return f"the contact's {listed} is on the black list"
    if not address(contact, channel):
        return f"the contact has no address for {channel}"
    # Categories are opt-in: one the contact never chose counts as not chosen.
    if category and (contact.get("categories") or {}).get(category) is not True:
        return f"the contact has not opted in to the category {category}"
    return None
