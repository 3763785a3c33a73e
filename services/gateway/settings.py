"""The GATEWAY and FORMS sections of config.yaml as the gateway uses them, read once per
process (plexus.settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from plexus.settings import number, section, whole
from services.gateway.logic.ratelimit import Limit


@dataclass(frozen=True)
class GatewaySettings:
    bootstrap_key: str = ""
    # The largest body, by a route's body_limit (services.gateway.web.routing.Route).
    body_limits: Mapping[str, int] = field(
        default_factory=lambda: {"max_body_bytes": 1 << 20, "max_batch_body_bytes": 10 << 20}
    )
    idempotency_ttl: timedelta = timedelta(hours=24)
    # A claimed Idempotency-Key still unanswered this long belonged to a gateway that died.
    idempotency_abandoned_after: timedelta = timedelta(minutes=5)
    key_cache_seconds: float = 0.5
    heartbeat_seconds: float = 1.0
    # Per API key, by class (default, send); per client address on keyless routes.
    rate_limits: Mapping[str, Limit] = field(default_factory=dict)
    client_rate_limits: Mapping[str, Limit] = field(default_factory=dict)
    trusted_proxy_depth: int = 0
    socket_timeout_seconds: float = 30.0
    max_connections: int = 1000
    # FORMS: one confirmation email an address an interval (0: no limit), and the
    # origins whose pages may post the form (CORS).
    confirmation_interval_seconds: float = 0.0
    allowed_origins: str = ""


def _limits(configured) -> dict[str, Limit]:
    limits = {name: Limit.from_config(value) for name, value in (configured or {}).items()}
    return {name: limit for name, limit in limits.items() if limit is not None}


def load_settings(config: dict) -> GatewaySettings:
    gateway, forms = section(config, "GATEWAY"), section(config, "FORMS")
    return GatewaySettings(
        bootstrap_key=str(gateway.get("bootstrap_key") or ""),
        body_limits={
            "max_body_bytes": whole(gateway.get("max_body_bytes"), 1 << 20),
            "max_batch_body_bytes": whole(gateway.get("max_batch_body_bytes"), 10 << 20),
        },
        idempotency_ttl=timedelta(hours=number(gateway.get("idempotency_ttl_hours"), 24)),
        idempotency_abandoned_after=timedelta(
            minutes=number(gateway.get("idempotency_abandoned_minutes"), 5)
        ),
        key_cache_seconds=number(gateway.get("key_cache_seconds"), 0.5) or 0.5,
        heartbeat_seconds=number(gateway.get("replica_heartbeat_seconds"), 1) or 1.0,
        rate_limits=_limits(gateway.get("rate_limits")),
        client_rate_limits=_limits(gateway.get("client_rate_limits")),
        trusted_proxy_depth=whole(gateway.get("trusted_proxy_depth"), 0),
        socket_timeout_seconds=number(gateway.get("socket_timeout_seconds"), 30) or 30.0,
        max_connections=whole(gateway.get("max_connections"), 1000) or 1000,
        confirmation_interval_seconds=number(forms.get("confirmation_interval_seconds"), 0),
        allowed_origins=str(forms.get("allowed_origins") or ""),
    )
