"""A nameko timer whose period is read from the config when the service starts
(`@configured_timer("SEGMENTS", "periodic_pass_seconds", 300)`), not fixed when the class
is written: deployments and tests set it without touching code."""

from __future__ import annotations

import nameko
from nameko.timer import Timer

from plexus.settings import number, section


class ConfiguredTimer(Timer):
    def __init__(self, section_name: str, key: str, default: float, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.section_name, self.key, self.default = section_name, key, default

    def setup(self) -> None:
        self.interval = (
            number(section(nameko.config, self.section_name).get(self.key), self.default)
            or self.default
        )
        super().setup()


configured_timer = ConfiguredTimer.decorator
