"""Events between services: who emits what, who consumes what, and the payload every
consumer may rely on.

Every payload carries `event` (its name), `event_id` (consumers deduplicate on it: the
broker delivers at least once) and `occurred_at` (RFC 3339 UTC); most carry `actor`; one
recorded for a request carries its `request_id` and `traceparent` (plexus.tracing).
Services publish through their outbox (plexus.outbox), so an event leaves only after its
transaction commits, to the nameko exchange `<service>.events` with the name as routing key.
"""

from plexus.contract.services import ACTIVITY, CAMPAIGNS, CONTACTS, MESSAGING, SEGMENTS

# contacts -> anyone. Payload keys besides event / event_id / occurred_at / actor:
# A created or changed contact whose new email or phone subscribed its channel lists
# those subscriptions in its own event (`subscribed`), each as subscription_changed would
# say it, with an event_id of its own that sorts after the listing event's: one event
# for an imported contact, not three.
CONTACT_CREATED = "contact_created"  # contact_id, contact (the stored resource,
#                                            subscriptions included), subscribed [{event_id,
#                                            channel, status, previous, reason}]
CONTACT_UPDATED = "contact_updated"  # contact_id, changed {field: new value},
#                                            subscribed (as for contact_created)
CONTACT_DELETED = "contact_deleted"  # contact_id (nothing else: the contact is erased)
CONTACT_ACTIVATED = "contact_activated"  # contact_id
CONTACT_DEACTIVATED = "contact_deactivated"  # contact_id
SUBSCRIPTION_CHANGED = "subscription_changed"  # contact_id, channel, status, previous, reason
BLACKLIST_CHANGED = "blacklist_changed"  # contact_id, list, blacklisted (bool), reason
#                                            A contact is listed while its current address
#                                            is on the list: one each time that changes, by
#                                            the list or by the contact's address changing.

# messaging -> anyone.
# Every message event carries `trigger`: what caused the message, null for one sent
# through the API ({campaign_id, variant?}, {workflow_id, run_id, step, cause}: as
# queue_batch was given it).
MESSAGE_QUEUED = "message_queued"  # message_id, contact_id, channel, origin, trigger,
#                                     category, template_id, resend_of
MESSAGE_SENT = "message_sent"  # message_id, contact_id, channel, origin, trigger, provider_id
MESSAGE_STATUS = "message_status"  # message_id, contact_id, channel, origin, trigger, status
#                                     (an activity type of that channel: delivered, open,
#                                     click, hard_bounce...), details {url, reason, ...}

# activity -> anyone: one per transaction that stored feed rows (a consumer's batch, a
# posted batch of events, one posted event), listing every row it stored; segments
# counts them. One message for hundreds of rows: the broker carries the batch once.
ACTIVITY_RECORDED = "activity_recorded"  # items: [{item_id, contact_id, channel, type,
#                                     origin, name (custom event name, else null),
#                                     occurred_at}]

# segments -> anyone.
# One per segment and direction a transaction moved contacts in: the contacts of an
# import that enter a segment together make one event, not one each.
SEGMENT_MEMBERSHIP_CHANGED = "segment_membership_changed"  # segment_id, segment_name,
#                                     contact_ids [...], change ("added" | "dropped"),
#                                     version (of the rule the change was made under)

EMITTED_BY = {
    CONTACTS: (
        CONTACT_CREATED,
        CONTACT_UPDATED,
        CONTACT_DELETED,
        CONTACT_ACTIVATED,
        CONTACT_DEACTIVATED,
        SUBSCRIPTION_CHANGED,
        BLACKLIST_CHANGED,
    ),
    MESSAGING: (MESSAGE_QUEUED, MESSAGE_SENT, MESSAGE_STATUS),
    ACTIVITY: (ACTIVITY_RECORDED,),
    SEGMENTS: (SEGMENT_MEMBERSHIP_CHANGED,),
}

# consumer -> {source: events it consumes}. plexus.consumer declares one durable queue per
# (consumer, source) from this table at `plexus migrate` and at start, so events published
# before a consumer ever ran wait for it instead of being dropped by the broker.
# A service that starts consuming adds its row here.
SUBSCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    ACTIVITY: {
        CONTACTS: EMITTED_BY[CONTACTS],
        MESSAGING: (MESSAGE_SENT, MESSAGE_STATUS),
        SEGMENTS: (SEGMENT_MEMBERSHIP_CHANGED,),
    },
    MESSAGING: {CONTACTS: (CONTACT_DELETED,)},
    SEGMENTS: {CONTACTS: EMITTED_BY[CONTACTS], ACTIVITY: (ACTIVITY_RECORDED,)},
    CAMPAIGNS: {CONTACTS: (CONTACT_DELETED,), MESSAGING: (MESSAGE_SENT, MESSAGE_STATUS)},
}
# The channel senders forget what their provider keeps of an erased contact (the outbox
# provider's files).
SENDERS = (
    "sender_email",
    "sender_sms",
    "sender_telegram",
    "sender_viber",
    "sender_webpush",
    "sender_app_push",
)
SUBSCRIPTIONS.update({sender: {CONTACTS: (CONTACT_DELETED,)} for sender in SENDERS})
