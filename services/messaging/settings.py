"""The MESSAGING section of config.yaml, read once into plain values the logic takes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from plexus import settings
from plexus.config import kept_secret
from plexus.secretcheck import strong_secret
from services.messaging.logic.rendering import Limits


def section(config: dict) -> dict:
    return settings.section(config, "MESSAGING")


TRACKING_SECRET = "PLEXUS_TRACKING_SECRET"


def tracking_secrets(config: dict) -> tuple[str, ...]:
    """PLEXUS_TRACKING_SECRET: one secret, or several separated by commas, the newest
    first (links are signed with the first and accepted under any: rotation, in
    README.md); else one made and kept under DATA_DIR. A placeholder or a short one
    stops the service at start (plexus.secretcheck)."""
    configured = section(config).get("tracking_secret")
    values = configured if isinstance(configured, list) else str(configured or "").split(",")
    values = [str(value).strip() for value in values if str(value).strip()]
    if not values:
        return (kept_secret(config, "tracking-secret", lambda: secrets.token_urlsafe(32)),)
    return tuple(
        strong_secret(TRACKING_SECRET if n == 0 else f"{TRACKING_SECRET} (secret {n + 1})", value)
        for n, value in enumerate(values)
    )


@dataclass(frozen=True)
class Settings:
    tracking_base_url: str
    tracking_secret: str  # signs every new link
    limits: Limits
    previous_tracking_secrets: tuple[str, ...] = ()  # still accepted, sign nothing
    # Seconds a sent message of these channels may wait for `delivered` before it is
    # `expired` (the providers' ttl: the push service's, ours for Viber).
    ttls: dict[str, float] = field(default_factory=dict)

    @property
    def tracking_secrets(self) -> tuple[str, ...]:
        """Every secret a link may be signed with, the newest first."""
        return (self.tracking_secret, *self.previous_tracking_secrets)


def load_settings(config: dict) -> Settings:
    messaging = section(config)
    newest, *previous = tracking_secrets(config)
    return Settings(
        tracking_base_url=str(messaging.get("tracking_base_url") or "http://127.0.0.1:8000"),
        tracking_secret=newest,
        limits=Limits(max_seconds=settings.number(messaging.get("render_max_seconds"), 1.0)),
        previous_tracking_secrets=tuple(previous),
        ttls=delivery_ttls(config),
    )


DEFAULT_TTL = 86400.0


def delivery_ttls(config: dict) -> dict[str, float]:
    webpush = settings.number(provider_settings(config, "webpush").get("ttl"), DEFAULT_TTL)
    viber = settings.number(provider_settings(config, "viber").get("ttl"), DEFAULT_TTL)
    return {"webpush_desktop": webpush, "webpush_mobile": webpush, "viber": viber}


def provider_settings(config: dict, name: str) -> dict:
    return dict((section(config).get("providers") or {}).get(name) or {})


def channel_provider(config: dict, channel: str) -> str:
    return str((section(config).get("channel_providers") or {}).get(channel) or "outbox")


def retry_policy(config: dict) -> tuple[int, float]:
    """(attempts, base back-off in seconds) for temporary provider failures."""
    messaging = section(config)
    return (
        int(settings.number(messaging.get("retry_attempts"), 5)),
        settings.number(messaging.get("retry_backoff_seconds"), 0.5),
    )
