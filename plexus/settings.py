"""Reading a section of config.yaml into typed values once, at start: each service's
settings.py says what its section holds (a dataclass) and reads it with these, so a bad
number fails when the process starts, not on the request that first needs it."""

from __future__ import annotations

from collections.abc import Callable

import nameko
from nameko.extensions import DependencyProvider


def section(config: dict, name: str) -> dict:
    """The section `name` (GATEWAY, MESSAGING...), empty when absent or null."""
    return dict(config.get(name) or {})


def number(value, default: float) -> float:
    """A number from the config; `default` when unset (absent, null or empty)."""
    return float(value) if value not in (None, "") else default


def whole(value, default: int) -> int:
    return int(value) if value not in (None, "") else default


class Settings(DependencyProvider):
    """A service's settings, read once when its container starts:
    `settings = Settings(load_settings)` on the service class, where load_settings(config)
    returns the service's dataclass; a worker sees that value."""

    def __init__(self, load: Callable[[dict], object]):
        self.load = load

    def setup(self) -> None:
        self.value = self.load(nameko.config)

    def get_dependency(self, _worker_ctx) -> object:
        return self.value
