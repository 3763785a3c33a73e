"""The segments service keeps a projection up to date in the background; when the machine
is busy, the services answering requests (contacts above all, whose batch imports have a
10 s deadline) should win the CPU. SEGMENTS.cpu_nice lowers this process's priority
(os.nice) at start: membership then lags under load and catches up, instead of slowing
every write. 0 leaves it alone (the tests' in-process containers)."""

from __future__ import annotations

import logging
import os

import nameko
from nameko.extensions import DependencyProvider

from services.segments.settings import load_settings

log = logging.getLogger(__name__)


class CpuPriority(DependencyProvider):
    def setup(self) -> None:
        niceness = load_settings(nameko.config).cpu_nice
        if niceness > 0:
            os.nice(niceness)
            log.info("segments runs at nice %d", os.nice(0))
