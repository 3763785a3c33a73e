"""Vocabularies shared by every service and shown by the API: channels, origins,
activity types and statuses."""

MESSAGE_CHANNELS = (
    "email",
    "sms",
    "telegram",
    "viber",
    "webpush_desktop",
    "webpush_mobile",
    "app_push",
)
# Channels a person can be added to by hand; the others need an address first
# (a chat, a viber user, a browser, an app's device token) and may only be re-subscribed by hand.
OPEN_CHANNELS = ("email", "sms")
BLACKLISTS = ("email", "phone", "viber")
# How an address came onto a black list: by hand (the API), a hard bounce, a complaint,
# or the record an erased contact left (suppression after erasure).
BLACKLIST_SOURCES = ("manual", "hard_bounce", "complaint", "erased")
SUBSCRIPTION_STATUSES = ("subscribed", "unsubscribed", "never")
CONTACT_STATUSES = ("active", "inactive")
# How a contact arrived: the API, an import (batch upsert), an event or order naming it,
# the subscription form.
CREATED_VIA = ("api", "import", "event", "order", "form")
GENDERS = (0, 1, 2, 9)  # ISO/IEC 5218: not known, male, female, not applicable
WEBPUSH_DEVICES = ("desktop", "mobile")
# The platforms of a mobile app's device token (FCM serves both).
APP_PUSH_PLATFORMS = ("android", "ios")
VARIABLE_TYPES = ("string", "number", "boolean", "date")
VARIABLE_SCOPES = ("contact", "account")

# Why messaging refuses to queue (or to send) a message to a contact: the eligibility
# rule's reasons (inactive, unsubscribed, blacklisted, no_address, category; erased for a
# contact that no longer exists) and the messaging settings' frequency caps.
FREQUENCY_CAP = "frequency_cap"
REFUSAL_REASONS = (
    "unsubscribed",
    "blacklisted",
    "inactive",
    "category",
    "erased",
    "no_address",
    FREQUENCY_CAP,
)

ACTIVITY_CHANNELS = MESSAGE_CHANNELS + ("contact", "other")
ORIGINS = ("transaction", "campaign", "ab_test", "workflow")

# `suppressed`: consent was withdrawn between queueing and sending; never sent.
_MESSAGE_COMMON = ("sent", "subscribed", "unsubscribed", "suppressed")
ACTIVITY_TYPES = {
    "email": _MESSAGE_COMMON
    + (
        "delivered",
        "open",
        "click",
        "complaint",
        "unsubscribed",
        "soft_bounce",
        "hard_bounce",
        "reject",
    ),
    "sms": _MESSAGE_COMMON + ("delivered", "reject", "fail", "click"),
    "webpush_desktop": _MESSAGE_COMMON
    + (
        "delivered",
        "open",
        "click",
        "expired",
        "dismissed",
        "undelivered",
    ),
    # The Bot API says nothing of a message being read: no `open` (docs/statuses.md).
    "telegram": _MESSAGE_COMMON + ("delivered", "click", "failed"),
    "app_push": _MESSAGE_COMMON + ("delivered", "open", "undelivered"),
    "viber": _MESSAGE_COMMON + ("delivered", "open", "click", "fail", "reject", "expired"),
    "contact": (
        "added",
        "added_to_segment",
        "dropped_from_segment",
        "activated",
        "deactivated",
        "blacklisted",
        "unblacklisted",
        "updated",
    ),
    "other": ("custom_event", "custom_conversion", "order"),
}
ACTIVITY_TYPES["webpush_mobile"] = ACTIVITY_TYPES["webpush_desktop"]
# Channels whose client (a web push's service worker, the mobile app) reports what became
# of a message over POST /t/p/{token}: the message's push carries a token signed for it.
PUSH_REPORTING_CHANNELS = ("webpush_desktop", "webpush_mobile", "app_push")
# What a message that failed every attempt to reach its provider ends as, per channel.
EXHAUSTED = {
    "email": "soft_bounce",
    "sms": "fail",
    "telegram": "failed",
    "viber": "fail",
    "webpush_desktop": "undelivered",
    "webpush_mobile": "undelivered",
    "app_push": "undelivered",
}
ACTIVITY_TYPES = {channel: tuple(dict.fromkeys(types)) for channel, types in ACTIVITY_TYPES.items()}
