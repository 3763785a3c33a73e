"""The limits of the routes without a key: who the client is behind proxies, its bucket,
the form's one confirmation per address per interval, memory that does not grow with
every address seen; and the CORS headers of the form."""

import pytest

from services.gateway.logic import client_limits
from services.gateway.logic.client_limits import ClientLimits, client_address
from services.gateway.routes import ROUTES
from services.gateway.settings import load_settings
from services.gateway.web.cors import cors_headers

SETTINGS = load_settings(
    {"GATEWAY": {"client_rate_limits": {"forms": {"per_second": 1, "burst": 2}}}}
)


@pytest.mark.parametrize(
    ("peer", "forwarded", "depth", "client"),
    [
        ("10.0.0.9", None, 0, "10.0.0.9"),
        ("10.0.0.9", "6.6.6.6", 0, "10.0.0.9"),  # no proxy trusted: header ignored
        ("10.0.0.9", "6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # a spoofed first entry
        ("10.0.0.9", "6.6.6.6, 203.0.113.7, 10.0.0.8", 2, "203.0.113.7"),
        ("10.0.0.9", "203.0.113.7", 2, "10.0.0.9"),  # shorter than the proxies: not theirs
        (None, None, 0, "-"),
    ],
)
def test_the_client_is_the_entry_the_outermost_trusted_proxy_added(peer, forwarded, depth, client):
    assert client_address(peer, forwarded, depth) == client


def test_each_address_has_its_own_bucket_and_waits_when_it_is_empty():
    limits = ClientLimits(SETTINGS)
    waits = [limits.take("198.51.100.1", "forms", 1)[0].wait for _ in range(3)]
    assert waits[:2] == [0, 0] and 0 < waits[2] <= 1
    assert limits.take("198.51.100.2", "forms", 1)[0].wait == 0
    assert limits.take("198.51.100.1", "tracking", 1) is None  # a class not configured


def test_one_confirmation_per_address_per_interval_and_a_bad_form_does_not_count():
    limits = ClientLimits(load_settings({"FORMS": {"confirmation_interval_seconds": 600}}))
    assert limits.confirmation_due("Olena@Example.com ", 1)
    assert not limits.confirmation_due("olena@example.com", 1)  # the same address
    assert limits.confirmation_due("taras@example.com", 1)
    limits.confirmation_not_sent("taras@example.com", 1)
    assert limits.confirmation_due("taras@example.com", 1)
    assert all(limits.confirmation_due("x@example.com", 1) for _ in range(3)) is False
    off = ClientLimits(load_settings({"FORMS": {"confirmation_interval_seconds": 0}}))
    assert all(off.confirmation_due("olena@example.com", 1) for _ in range(3))


def test_full_buckets_of_addresses_gone_quiet_are_dropped(monkeypatch):
    monkeypatch.setattr(client_limits, "PRUNE_ABOVE", 100)
    limits = ClientLimits(SETTINGS)
    clock = iter(range(1000, 10**6))
    monkeypatch.setattr(client_limits.time, "time", lambda: float(next(clock)) / 1000)
    for n in range(500):
        limits.take(f"2001:db8::{n}", "forms", 1)
    assert len(limits.buckets.buckets) == 500  # all within the same second: none full
    monkeypatch.setattr(client_limits.time, "time", lambda: 1e6)
    limits.take("2001:db8::ffff", "forms", 1)  # long after: the others refilled
    assert len(limits.buckets.buckets) == 1


def test_cors_answers_only_the_allowed_origins():
    allowed = "https://shop.example, https://www.shop.example/"
    yes = cors_headers("POST", "https://www.shop.example", allowed)
    assert yes["Access-Control-Allow-Origin"] == "https://www.shop.example"
    assert "Access-Control-Allow-Methods" not in yes
    preflight = cors_headers("OPTIONS", "https://shop.example", allowed)
    assert preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert preflight["Access-Control-Allow-Headers"] == "Content-Type"
    for origin in ("https://evil.example", "http://shop.example", None):
        assert cors_headers("POST", origin, allowed) == {"Vary": "Origin"}
    assert cors_headers("POST", "https://x.example", "")["Vary"] == "Origin"
    assert "Access-Control-Allow-Origin" in cors_headers("POST", "https://x.example", "*")


def test_a_flood_of_addresses_is_held_to_a_bound_least_recent_first(monkeypatch):
    monkeypatch.setattr(client_limits, "MOST_HELD", 50)
    limits = ClientLimits(SETTINGS)
    for n in range(50):
        limits.take(f"2001:db8::{n}", "forms", 1)
    limits.take("2001:db8::0", "forms", 1)  # used again: the most recent now
    for n in range(50, 60):
        limits.take(f"2001:db8::{n}", "forms", 1)
    held = {owner for owner, _ in limits.buckets.buckets}
    assert len(held) <= 51 and "2001:db8::0" in held and "2001:db8::1" not in held
    # The address kept still has its bucket: its third request waits.
    assert limits.take("2001:db8::0", "forms", 1)[0].wait > 0


def test_every_tracking_route_draws_on_the_client_addresses_tracking_limit():
    tracking = [(r.method, r.path, r.client_limit) for r in ROUTES if r.path.startswith("/t/")]
    assert ("POST", "/t/p/<token>", "tracking") in tracking  # the web push reports
    assert {limit for _, _, limit in tracking} == {"tracking"}
