"""The tracking secrets as configured: refused at start when weak, several for rotation
(the first signs, any verifies), one made and kept under DATA_DIR when none is set."""

import pytest

from plexus.secretcheck import WeakSecret
from services.messaging.logic.tokens import CLICK, make_token, read_token
from services.messaging.settings import load_settings

NEW = "5f0c3a1e9b7d2c4a6e8f0b1d3c5a7e9f2b4d6c8a"
OLD = "e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e"


def config(tmp_path, secret) -> dict:
    return {"DATA_DIR": str(tmp_path), "MESSAGING": {"tracking_secret": secret}}


@pytest.mark.parametrize("secret", ["dev-only-tracking-secret", "change-me", f"{NEW},short"])
def test_a_placeholder_or_short_secret_stops_the_service_at_start(tmp_path, secret):
    with pytest.raises(WeakSecret, match="PLEXUS_TRACKING_SECRET"):
        load_settings(config(tmp_path, secret))


def test_the_first_secret_signs_and_every_one_verifies(tmp_path):
    settings = load_settings(config(tmp_path, f" {NEW} , {OLD} "))
    assert settings.tracking_secret == NEW
    assert settings.tracking_secrets == (NEW, OLD)
    sent_before = make_token(OLD, CLICK, "m1", "https://shop.example/")
    assert read_token(settings.tracking_secrets, CLICK, sent_before) == (
        "m1",
        "https://shop.example/",
    )
    dropped = load_settings(config(tmp_path, NEW))
    with pytest.raises(Exception, match="unknown link"):
        read_token(dropped.tracking_secrets, CLICK, sent_before)


def test_without_a_secret_one_is_made_once_and_kept(tmp_path):
    first = load_settings(config(tmp_path, ""))
    assert len(first.tracking_secret) >= 32 and first.previous_tracking_secrets == ()
    assert load_settings(config(tmp_path, None)).tracking_secret == first.tracking_secret
    assert (tmp_path / "tracking-secret").stat().st_mode & 0o777 == 0o600
