"""Tracking tokens: what is signed comes back; nothing else is accepted."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plexus.errors import NotFound
from services.messaging.logic.tokens import CLICK, OPEN, UNSUBSCRIBE, make_token, read_token
from services.messaging.logic.tracking import track_html

SECRET = "s3cret"


def test_round_trip():
    assert read_token(SECRET, OPEN, make_token(SECRET, OPEN, "m1")) == ("m1", None)
    token = make_token(SECRET, CLICK, "m1", "https://x.example/a?b=1")
    assert read_token(SECRET, CLICK, token) == ("m1", "https://x.example/a?b=1")


def test_another_secret_or_kind_is_refused():
    token = make_token(SECRET, UNSUBSCRIBE, "m1")
    with pytest.raises(NotFound):
        read_token("other", UNSUBSCRIBE, token)
    with pytest.raises(NotFound):
        read_token(SECRET, OPEN, token)


def test_a_click_token_cannot_be_pointed_elsewhere():
    token = make_token(SECRET, CLICK, "m1", "https://shop.example/")
    forged_payload = make_token("guess", CLICK, "m1", "https://evil.example/").split(".")[0]
    with pytest.raises(NotFound):
        read_token(SECRET, CLICK, forged_payload + "." + token.split(".")[1])


@given(st.text(max_size=200))
def test_garbage_is_not_found_never_an_error(garbage):
    with pytest.raises(NotFound):
        read_token(SECRET, CLICK, garbage)


def test_html_links_are_rewritten_and_a_pixel_added():
    html = (
        '<html><body><a href="https://a.example/x?y=1&amp;z=2">A</a> '
        '<a href="mailto:x@y">mail</a></body></html>'
    )
    tracked = track_html(html, "https://t.example", SECRET, "m1")
    assert "https://a.example" not in tracked and 'href="mailto:x@y"' in tracked
    assert tracked.count("https://t.example/t/c/") == 1
    assert tracked.index("https://t.example/t/o/") < tracked.index("</body>")
    token = tracked.split("/t/c/")[1].split('"')[0]
    assert read_token(SECRET, CLICK, token) == ("m1", "https://a.example/x?y=1&z=2")
