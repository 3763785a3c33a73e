"""The campaign's state machine: which action is allowed from which status, and what
it leads to. Anything else is 409 naming the status, so a client sees why."""

from __future__ import annotations

from plexus.errors import Conflict

# action -> {from: to}. `start` to running, or scheduled when schedule.at is ahead
# (services.campaigns.logic.starting decides); the timer and the dispatcher move
# scheduled -> running -> finished themselves.
TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"draft": "running"},
    "pause": {"running": "paused", "scheduled": "paused"},
    "resume": {"paused": "running"},
    "cancel": {
        "draft": "cancelled",
        "scheduled": "cancelled",
        "running": "cancelled",
        "paused": "cancelled",
    },
}
EDITABLE = ("draft",)


def next_status(status: str, action: str) -> str:
    allowed = TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(
            f"a {status} campaign cannot {action}; it can from: {', '.join(allowed)}",
            {"status": [f"is {status}"]},
        )
    return allowed[status]


def must_be_editable(status: str, what: str) -> None:
    """PATCH and DELETE: a draft only (a started campaign's audience and messages exist)."""
    if status not in EDITABLE:
        raise Conflict(
            f"only a draft campaign can be {what}; this one is {status}",
            {"status": [f"is {status}"]},
        )
