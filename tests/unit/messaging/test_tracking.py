"""Link tracking: which hrefs are rewritten, in one pass however hostile the HTML."""

import re
import time

import pytest

from plexus.errors import Invalid
from services.messaging.logic.tokens import CLICK, read_token
from services.messaging.logic.tracking import MAX_HTML, MAX_LINKS, track_html

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret"
BASE = "https://t.example"


def targets(tracked: str) -> list[str]:
    """The URLs the tracked links of `tracked` redirect to, in order."""
    return [
        read_token(SECRET, CLICK, token)[1]
        for token in re.findall(f"{BASE}/t/c/([\\w.-]+)", tracked)
    ]


def test_every_way_of_writing_an_href_is_tracked():
    html = (
        "<p><A HREF='https://a.example/1'>a</A>"
        '<a title="x > y" href = "https://b.example/2?q=1&amp;r=2">b</a>'
        "<a href=https://c.example/3 class=x>c</a>"
        '<a href=" https://d.example/4 ">d</a>'
        '<a href="https://e.example/5" href="https://ignored.example/">e</a></p>'
    )
    tracked = track_html(html, BASE, SECRET, "m1")
    assert targets(tracked) == [
        "https://a.example/1",
        "https://b.example/2?q=1&r=2",
        "https://c.example/3",
        "https://d.example/4",
        "https://e.example/5",
    ]
    assert 'title="x > y"' in tracked and "class=x>c</a>" in tracked


def test_what_is_not_a_link_stays_as_written():
    html = (
        '<a href="mailto:x@y.example">m</a><a href="#top">t</a><a name="x">n</a>'
        '<!-- <a href="https://comment.example/"> -->'
        "<script>var s = '<a href=\"https://script.example/\">';</script>"
        '<img src="https://img.example/i.png">'
    )
    tracked = track_html(html, BASE, SECRET, "m1")
    assert targets(tracked) == []
    assert tracked.startswith(html)


def test_an_unfinished_tag_ends_the_links():
    tracked = track_html(
        '<a href="https://a.example/">a</a><a href="https://b.example/', BASE, SECRET, "m1"
    )
    assert targets(tracked) == ["https://a.example/"]


@pytest.mark.parametrize("hostile", ["<a ", "<a href='", '<a x="', "<!--", "<a\n", "<script>"])
def test_100_kb_of_hostile_html_is_tracked_in_one_pass(hostile):
    # The href regex took 2.7 s for 24 KB of "<a " and grew with the square of the size.
    html = hostile * (100_000 // len(hostile))
    started = time.monotonic()
    tracked = track_html(html, BASE, SECRET, "m1")
    assert time.monotonic() - started < 1
    assert tracked.startswith(html)


def test_more_than_we_track_is_invalid_naming_the_html():
    with pytest.raises(Invalid) as caught:
        track_html('<a href="https://a.example/">a</a>' * (MAX_LINKS + 1), BASE, SECRET, "m1")
    assert "content.html" in caught.value.errors
    with pytest.raises(Invalid) as caught:
        track_html("x" * (MAX_HTML + 1), BASE, SECRET, "m1")
    assert "content.html" in caught.value.errors
