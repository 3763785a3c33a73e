"""May this contact be sent a message on this channel? The one rule every send goes
through, when the message is queued and again right before each attempt to hand it to
its provider (services.messaging.logic.claims), over the contact resource as the contacts
service answers it."""

from __future__ import annotations

from dataclasses import dataclass

# The purpose of a subscription form's confirmation email (messages.purpose): it asks
# for the email subscription, so it cannot require it; everything else still holds.
CONFIRMATION = "confirmation"
PURPOSES = (CONFIRMATION,)

# Which of the contact's black lists bars which channel.
BLACKLIST_OF = {"email": "email", "sms": "phone", "viber": "viber"}
WEBPUSH_DEVICE = {"webpush_desktop": "desktop", "webpush_mobile": "mobile"}
APP_PUSH = "app_push"

# Why a message may not go out (a suppressed message's `reason`).
INACTIVE, UNSUBSCRIBED, BLACKLISTED = "inactive", "unsubscribed", "blacklisted"
NO_ADDRESS, CATEGORY, ERASED = "no_address", "category", "erased"


@dataclass(frozen=True)
class Refusal:
    reason: str  # one of the codes above
    detail: str  # the sentence a person reads


def address(contact: dict, channel: str):
    """Where the message goes: an email, an E.164 phone, a chat id, a viber user id, the
    browser push subscriptions of that device, or the app's device tokens; None when
    there is none."""
    channels = contact.get("channels") or {}
    if channel == "email":
        return contact.get("email")
    if channel == "sms":
        return contact.get("phone")
    if channel == "telegram":
        return (channels.get("telegram") or {}).get("chat_id")
    if channel == "viber":
        return (channels.get("viber") or {}).get("user_id")
    if channel == APP_PUSH:
        return channels.get("app_push") or None
    device = WEBPUSH_DEVICE[channel]
    subscriptions = [s for s in channels.get("webpush") or [] if s.get("device") == device]
    return subscriptions or None


def refusal(
    contact: dict | None, channel: str, category: str | None = None, purpose: str | None = None
) -> Refusal | None:
    """Why the contact cannot receive it, or None when it can; None for `contact` is a
    contact that no longer exists. `purpose` is the message's (messages.purpose): a
    `confirmation` needs no subscription."""
    if contact is None:
        return Refusal(ERASED, "the contact was erased")
    if contact.get("status") != "active":
        return Refusal(INACTIVE, "the contact is inactive")
    subscription = (contact.get("subscriptions") or {}).get(channel) or {}
    if purpose != CONFIRMATION and subscription.get("status") != "subscribed":
        return Refusal(UNSUBSCRIBED, f"the contact is not subscribed to {channel}")
    listed = BLACKLIST_OF.get(channel)
    if listed and (contact.get("blacklists") or {}).get(listed):
        return Refusal(BLACKLISTED, f"the contact's {listed} is on the black list")
    if not address(contact, channel):
        return Refusal(NO_ADDRESS, f"the contact has no address for {channel}")
    # Categories are opt-in: one the contact never chose counts as not chosen.
    if category and (contact.get("categories") or {}).get(category) is not True:
        return Refusal(CATEGORY, f"the contact has not opted in to the category {category}")
    return None
