"""Keys (ids, names) as they arrive in a request or an RPC: anything but a plain string of
reasonable length names no row, and must not reach the driver, which fails on binding
another type and, on PostgreSQL, on a NUL character (an error, not an empty answer)."""

from __future__ import annotations

from plexus.errors import NotFound

# Longer than any key Plexus makes or accepts (ids are 26 characters, names at most 100).
MAX_KEY_LENGTH = 255


def usable_key(key) -> bool:
    return isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and "\x00" not in key


def require_key(key, what: str) -> str:
    """The key, or NotFound naming `what` (an unusable key names nothing)."""
    if not usable_key(key):
        raise NotFound(f"no such {what}")
    return key
