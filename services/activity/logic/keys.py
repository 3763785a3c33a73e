"""Ids as they arrive in a request path: anything but a plain string names no row, and
must not reach the driver (PostgreSQL refuses a NUL character with an error, not an
empty answer)."""

from __future__ import annotations

from plexus.errors import NotFound


def usable_key(key) -> bool:
    return isinstance(key, str) and 0 < len(key) <= 64 and "\x00" not in key


def require_key(key, what: str) -> str:
    if not usable_key(key):
        raise NotFound(f"no such {what}")
    return key
