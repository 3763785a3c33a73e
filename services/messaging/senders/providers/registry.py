"""Which provider a sender uses: MESSAGING.channel_providers names one per sender,
"outbox" (the embedded default) unless configured; its settings are its section under
MESSAGING.providers."""

from __future__ import annotations

from pathlib import Path

from plexus.config import data_dir
from plexus.push_services import PushServices
from services.messaging.senders.providers.fcm import FcmProvider
from services.messaging.senders.providers.outbox import OutboxProvider
from services.messaging.senders.providers.smtp import SmtpProvider
from services.messaging.senders.providers.telegram import TelegramProvider
from services.messaging.senders.providers.twilio import TwilioProvider
from services.messaging.senders.providers.vapid import private_key
from services.messaging.senders.providers.viber import ViberProvider
from services.messaging.senders.providers.webpush import WebpushProvider
from services.messaging.settings import channel_provider, provider_settings, section

PROVIDERS = {
    "smtp": SmtpProvider,
    "twilio": TwilioProvider,
    "telegram": TelegramProvider,
    "viber": ViberProvider,
    "fcm": FcmProvider,  # app_push
}


def outbox_directory(config: dict) -> Path:
    configured = section(config).get("outbox_dir")
    return Path(configured) if configured else Path(data_dir(config)) / "outbox"


def make_provider(config: dict, sender: str):
    """(provider, its settings) for one sender."""
    name = channel_provider(config, sender)
    settings = provider_settings(config, name)
    if name == "outbox":
        return OutboxProvider(outbox_directory(config)), settings
    if name == "webpush":  # serves both webpush channels; VAPID key kept if not configured
        return WebpushProvider(
            settings, private_key(config), push_services=PushServices.from_config(config)
        ), settings
    if name not in PROVIDERS:
        raise ValueError(
            f"unknown provider {name!r} for {sender}; one of outbox, webpush, "
            + ", ".join(PROVIDERS)
        )
    return PROVIDERS[name](settings), settings
