"""The suite's "now", which tests and development may shift: a campaign's local send
times and an A/B test's wait are hours long, and a test cannot wait them out.

`now()` is the real UTC time plus an offset read at each call from the file that
PLEXUS_CLOCK_FILE names (a number of seconds, e.g. `7200`; absent, empty or
unreadable: no offset). A testing and development facility only: leave the variable
unset in production. Every process that reads the same file agrees on the shifted time."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from plexus.timeutil import utcnow

CLOCK_FILE_VARIABLE = "PLEXUS_CLOCK_FILE"


def offset_seconds() -> float:
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    if not path:
        return 0.0
    try:
        with open(path) as handle:
            return float(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def now() -> datetime:
    return utcnow() + timedelta(seconds=offset_seconds())
