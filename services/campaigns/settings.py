"""The CAMPAIGNS section of config.yaml as the campaigns service uses it, read once at
start (plexus.settings)."""

from __future__ import annotations

from dataclasses import dataclass

from plexus.settings import section, whole

DISPATCH_SECONDS = 1.0
# How often date triggers (birthdays) look for contacts whose local day began.
DATE_CHECK_SECONDS = 60.0
# messaging.queue_batch takes 500 items at most.
MAX_CHUNK = 500
RUN_CHUNK = 200
# Chunks of one campaign handed to messaging at once (PostgreSQL, unthrottled).
IN_FLIGHT = 6
MAX_IN_FLIGHT = 8  # each holds a database connection over its call


@dataclass(frozen=True)
class CampaignsSettings:
    # Recipients handed to messaging a call (and claimed a transaction).
    chunk: int = MAX_CHUNK
    # Workflow runs claimed a transaction by the timer that moves them along.
    run_chunk: int = RUN_CHUNK
    in_flight: int = IN_FLIGHT
    # The zone of a member without one, for schedule.local_time.
    default_timezone: str = "UTC"


def load_settings(config: dict) -> CampaignsSettings:
    campaigns = section(config, "CAMPAIGNS")
    chunk = whole(campaigns.get("chunk"), MAX_CHUNK)
    if not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"CAMPAIGNS.chunk must be between 1 and {MAX_CHUNK}, not {chunk}")
    run_chunk = whole(campaigns.get("run_chunk"), RUN_CHUNK)
    if not 1 <= run_chunk <= MAX_CHUNK:
        raise ValueError(f"CAMPAIGNS.run_chunk must be between 1 and {MAX_CHUNK}, not {run_chunk}")
    in_flight = whole(campaigns.get("in_flight"), IN_FLIGHT)
    if not 1 <= in_flight <= MAX_IN_FLIGHT:
        raise ValueError(
            f"CAMPAIGNS.in_flight must be between 1 and {MAX_IN_FLIGHT}, not {in_flight}"
        )
    return CampaignsSettings(
        chunk=chunk,
        run_chunk=run_chunk,
        in_flight=in_flight,
        default_timezone=str(campaigns.get("default_timezone") or "UTC"),
    )
