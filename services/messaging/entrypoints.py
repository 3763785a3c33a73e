"""The messaging service on the bus (docs/development.md, "The messaging RPC
interface"). Each method runs one logic function and returns plain JSON."""

from __future__ import annotations

import nameko
from nameko.extensions import DependencyProvider

from plexus.contract import events
from plexus.contract.services import MESSAGING
from plexus.db import Database
from plexus.event_consumer import on_events
from plexus.metrics import ServiceMetrics
from plexus.outbox import OutboxRelay
from plexus.paging import PageArgs
from plexus.parsing import load
from plexus.rpc import Caller, answer
from plexus.secretcheck import strong_secret
from plexus.timers import configured_timer
from plexus.tracing import Tracing
from services.messaging import queues
from services.messaging.logic import (
    batches,
    bounces,
    claims,
    confirmations,
    expiry,
    feedback,
    holds,
    messages,
    messaging_settings,
    rate_buckets,
    sending,
    templates,
    webhooks,
)
from services.messaging.models import DeliveryOutbox, Outbox
from services.messaging.ports import ContactsPort
from services.messaging.settings import load_settings, provider_settings

# The key each provider signs its webhooks with, in its config section.
WEBHOOK_KEYS = {
    "twilio": "auth_token",
    "telegram": "webhook_secret",
    "viber": "token",
    "smtp": "webhook_secret",
}


# What a sender's claim says of its rate limit, read on every claim (made once).
SENDER_LIMIT = rate_buckets.SenderLimit()
# How often the messages held by quiet hours are looked at (seconds): the longest a
# message waits past the end of its hold.
RELEASE_SECONDS = 10
# How often sent web pushes and Viber messages past their TTL are marked expired.
EXPIRE_SECONDS = 30


class MessagingSettings(DependencyProvider):
    """The MESSAGING config, read once per container."""

    def setup(self) -> None:
        self.settings = load_settings(nameko.config)
        self.webhook_secrets = {
            provider: str(provider_settings(nameko.config, provider).get(key) or "")
            for provider, key in WEBHOOK_KEYS.items()
        }
        # The relay's key is ours to choose (the others are the providers' tokens).
        if self.webhook_secrets["smtp"]:
            strong_secret("PLEXUS_SMTP_WEBHOOK_SECRET", self.webhook_secrets["smtp"])

    def get_dependency(self, _worker_ctx):
        return self


class MessagingService:
    name = MESSAGING

    db = Database("messaging")
    tracing = Tracing()  # the request's trace in logs, RPCs and events
    outbox = OutboxRelay(Outbox)
    deliveries = OutboxRelay(
        DeliveryOutbox, exchange=queues.EXCHANGE, declare=queues.all_queues(), what="deliveries"
    )
    rpc = Caller()
    config = MessagingSettings()
    metrics = ServiceMetrics()

    def _contacts(self) -> ContactsPort:
        return ContactsPort(self.rpc)

    @answer
    def ping(self):
        return "pong"

    @answer
    def send_message(self, data, actor):
        return sending.send_message(
            self.db.transaction, self._contacts(), self.config.settings, data, actor
        )

    @answer
    def queue_batch(self, items, actor):
        return batches.queue_batch(
            self.db.transaction, self._contacts(), self.config.settings, items, actor
        )

    @answer
    def resend_message(self, message_id, actor):
        return sending.resend_message(self.db.transaction, self._contacts(), message_id, actor)

    @answer
    def queue_confirmation(self, contact_id, token, expires_at, actor):
        return confirmations.queue_confirmation(
            self.db.transaction,
            self._contacts(),
            self.config.settings,
            contact_id,
            token,
            expires_at,
            actor,
        )

    @answer
    def get_message(self, message_id):
        return self.db.run(messages.get_message, message_id)

    @answer
    def contact_messages(self, contact_id, cursor=None, size=200):
        return self.db.run(messages.contact_messages, contact_id, cursor, size)

    @answer
    def list_templates(self, limit=50, cursor=None):
        args = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(templates.list_templates, args["limit"], args["cursor"])

    @answer
    def create_template(self, data, actor):
        return self.db.run(templates.create_template, data, actor)

    @answer
    def get_template(self, template_id):
        return self.db.run(templates.get_template, template_id)

    @answer
    def update_template(self, template_id, data, actor):
        return self.db.run(templates.update_template, template_id, data, actor)

    # ---- the messaging settings (frequency caps, quiet hours) and the held messages

    @answer
    def get_settings(self):
        return self.db.run(messaging_settings.get_settings)

    @answer
    def put_settings(self, data, actor):
        return self.db.run(messaging_settings.put_settings, data, actor)

    @configured_timer("MESSAGING", "release_held_seconds", RELEASE_SECONDS)
    def release_held(self):
        while self.db.run(holds.release_due) == holds.BATCH:
            pass

    @configured_timer("MESSAGING", "expire_seconds", EXPIRE_SECONDS)
    def expire_undelivered(self):
        while self.db.run(expiry.expire_due) == expiry.BATCH:
            pass

    # ---- the senders' side

    @answer
    def claim_delivery(self, message_id, limit=None):
        return claims.claim(
            self.db.transaction,
            self._contacts(),
            self.config.settings,
            message_id,
            load(SENDER_LIMIT, limit) if limit is not None else None,
        )

    @answer
    def report_delivery(self, message_id, status, details):
        return bounces.report_delivery(
            self.db.transaction,
            self._contacts(),
            message_id,
            status,
            details,
            self.config.settings.ttls,
        )

    # ---- tracking links and provider webhooks (the gateway's /t/ and /webhooks/)

    @answer
    def track_open(self, token):
        self.db.run(feedback.record_open, self.config.settings.tracking_secrets, token)

    @answer
    def track_click(self, token):
        return self.db.run(feedback.record_click, self.config.settings.tracking_secrets, token)

    @answer
    def track_push(self, token, event):
        return self.db.run(
            feedback.record_push_event, self.config.settings.tracking_secrets, token, event
        )

    @answer
    def unsubscribe_target(self, token):
        return self.db.run(
            feedback.unsubscribe_target, self.config.settings.tracking_secrets, token
        )

    @answer
    def unsubscribe(self, token):
        return feedback.unsubscribe(
            self.db.transaction, self._contacts(), self.config.settings.tracking_secrets, token
        )

    @answer
    def handle_webhook(self, provider, request):
        return webhooks.handle_webhook(
            self.db.transaction, self._contacts(), self.config.webhook_secrets, provider, request
        )

    # ---- events

    @on_events(events.CONTACTS)
    def on_contact_events(self, payloads):
        erased = [p["contact_id"] for p in payloads if p.get("event") == events.CONTACT_DELETED]
        if erased:
            self.db.run(messages.forget_contacts, erased)
