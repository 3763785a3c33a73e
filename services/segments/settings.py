"""The SEGMENTS section of config.yaml as the segments service uses it, read once at start
(plexus.settings)."""

from __future__ import annotations

from dataclasses import dataclass

from plexus.settings import number, section, whole

PASS_SECONDS = 300.0


@dataclass(frozen=True)
class SegmentsSettings:
    # Seconds of SQL a rule's evaluation over every contact may take: on request
    # (preview, a new or changed rule; under the gateway's 10 s RPC deadline), and in
    # the periodic pass.
    query_timeout_seconds: float = 8.0
    pass_timeout_seconds: float = 120.0
    # The process's os.nice at start (services.segments.priority); 0 leaves it alone.
    cpu_nice: int = 0


def load_settings(config: dict) -> SegmentsSettings:
    segments = section(config, "SEGMENTS")
    return SegmentsSettings(
        query_timeout_seconds=number(segments.get("query_timeout_seconds"), 8.0),
        pass_timeout_seconds=number(segments.get("pass_timeout_seconds"), 120.0),
        cpu_nice=whole(segments.get("cpu_nice"), 0),
    )
