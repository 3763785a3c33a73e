"""plexus.secretcheck: a configured secret that came from a sample file, or is short
enough to guess, stops a service at start with a message naming the setting."""

import pytest

from plexus.secretcheck import WeakSecret, strong_secret


@pytest.mark.parametrize(
    "value",
    [
        "change-me",
        "dev-only-tracking-secret",
        "CHANGE_ME-please-0123456789abcdef0123456789",
        "placeholder-0123456789abcdef0123456789",
        "short-but-random-9f3k",
        "a" * 64,
    ],
)
def test_placeholders_short_and_repetitive_secrets_are_refused(value):
    with pytest.raises(WeakSecret) as caught:
        strong_secret("PLEXUS_TRACKING_SECRET", value)
    message = str(caught.value)
    assert message.startswith("PLEXUS_TRACKING_SECRET ")
    assert "32 or more random characters" in message


def test_a_made_secret_is_taken_as_it_is():
    value = "9c1f0e6b1d5a4f3e8b7c2a0d9e8f7a6b5c4d3e2f1a0b9c8d"
    assert strong_secret("PLEXUS_TRACKING_SECRET", value) == value
