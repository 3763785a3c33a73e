"""A nameko timer whose period is read from the config when the service starts
(SEGMENTS.periodic_pass_seconds), not fixed when the class is written."""

from __future__ import annotations

import nameko
from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, section: str, key: str, default: float, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.section, self.key, self.default = section, key, default

    def setup(self) -> None:
        settings = nameko.config.get(self.section) or {}
        self.interval = float(settings.get(self.key) or self.default)
        super().setup()


configured_timer = ConfiguredTimer.decorator
