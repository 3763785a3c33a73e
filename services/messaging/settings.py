"""The MESSAGING section of config.yaml, read once into plain values the logic takes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from plexus.config import kept_secret
from services.messaging.logic.rendering import Limits


def section(config: dict) -> dict:
    return dict(config.get("MESSAGING") or {})


def _number(value, default: float) -> float:
    return float(value) if value not in (None, "") else default


def tracking_secret(config: dict) -> str:
    """PLEXUS_TRACKING_SECRET, else one kept under DATA_DIR."""
    configured = section(config).get("tracking_secret")
    if configured:
        return str(configured)
    return kept_secret(config, "tracking-secret", lambda: secrets.token_urlsafe(32))


@dataclass(frozen=True)
class Settings:
    tracking_base_url: str
    tracking_secret: str
    limits: Limits


def load_settings(config: dict) -> Settings:
    messaging = section(config)
    return Settings(
        tracking_base_url=str(messaging.get("tracking_base_url") or "http://127.0.0.1:8000"),
        tracking_secret=tracking_secret(config),
        limits=Limits(max_seconds=_number(messaging.get("render_max_seconds"), 1.0)),
    )


def provider_settings(config: dict, name: str) -> dict:
    return dict((section(config).get("providers") or {}).get(name) or {})


def channel_provider(config: dict, channel: str) -> str:
    return str((section(config).get("channel_providers") or {}).get(channel) or "outbox")


def retry_policy(config: dict) -> tuple[int, float]:
    """(attempts, base back-off in seconds) for temporary provider failures."""
    messaging = section(config)
    return (int(_number(messaging.get("retry_attempts"), 5)),
            _number(messaging.get("retry_backoff_seconds"), 0.5))
