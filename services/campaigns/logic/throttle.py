"""throttle_per_minute: at most that many of a campaign's recipients handed to messaging
in any 60 seconds (queued or refused: each is one call's worth of work), counted from
the recipients' own dispatch times, so several dispatcher processes share one limit."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)


def window_start(now: datetime) -> datetime:
    return now - WINDOW


def allowance(limit: int | None, dispatched_in_window: int, chunk: int) -> int:
    """How many recipients this pass may take: a chunk, or what the limit leaves."""
    if limit is None:
        return chunk
    return max(0, min(chunk, limit - dispatched_in_window))
