"""Waiting for a condition by polling it, never by sleeping a guessed time."""

from __future__ import annotations

import time


def wait_for(condition, seconds: float = 15.0, what: str = "condition", every: float = 0.1):
    """The condition's first truthy value; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(every)
