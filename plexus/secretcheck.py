"""Refusing weak secrets at start: a key that signs something (tracking links, webhooks)
must not be a value from a sample file or short enough to guess. A service checks each
configured secret once, where it reads its config, and stops with a message that names
the setting and says what to put there."""

from __future__ import annotations

MIN_LENGTH = 32
# Words that mark a value copied from a sample (compose, k8s, docs) rather than made.
PLACEHOLDER_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "dev-only",
    "placeholder",
    "example",
    "default",
    "secret",
    "password",
    "xxxx",
)
MIN_DISTINCT = 8  # "aaaa...a" is long but no secret


class WeakSecret(ValueError):
    """A configured secret that is a placeholder or too short to keep."""


def strong_secret(setting: str, value: str) -> str:
    """`value` if it can be a secret; WeakSecret naming `setting` (say, the variable that
    sets it) otherwise."""
    advice = (
        f"set {setting} to {MIN_LENGTH} or more random characters (e.g. `openssl rand -hex 32`)"
    )
    lowered = value.strip().lower()
    for word in PLACEHOLDER_WORDS:
        if word in lowered:
            raise WeakSecret(f"{setting} looks like a placeholder ({word!r} in it): {advice}")
    if len(value.strip()) < MIN_LENGTH:
        raise WeakSecret(f"{setting} is {len(value.strip())} characters long: {advice}")
    if len(set(value)) < MIN_DISTINCT:
        raise WeakSecret(f"{setting} repeats a few characters: {advice}")
    return value
