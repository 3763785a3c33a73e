"""Events between services: who emits what, and the payload every consumer may rely on.

Every payload carries `event_id` (consumers deduplicate on it: the broker delivers at
least once) and `occurred_at` (RFC 3339 UTC). Services publish through their outbox
(plexus.outbox), so an event leaves only after its transaction commits.
"""

CONTACTS = "contacts"

# contacts -> anyone. Payload keys besides event_id / occurred_at / actor:
CONTACT_CREATED = "contact_created"        # contact_id, contact (the stored resource)
CONTACT_UPDATED = "contact_updated"        # contact_id, changed {field: new value}
CONTACT_DELETED = "contact_deleted"        # contact_id (nothing else: the contact is erased)
CONTACT_ACTIVATED = "contact_activated"    # contact_id
CONTACT_DEACTIVATED = "contact_deactivated"  # contact_id
SUBSCRIPTION_CHANGED = "subscription_changed"  # contact_id, channel, status, previous, reason
BLACKLIST_CHANGED = "blacklist_changed"    # contact_id, list, blacklisted (bool), reason

EMITTED_BY = {
    CONTACTS: (
        CONTACT_CREATED, CONTACT_UPDATED, CONTACT_DELETED, CONTACT_ACTIVATED,
        CONTACT_DEACTIVATED, SUBSCRIPTION_CHANGED, BLACKLIST_CHANGED,
    ),
}
