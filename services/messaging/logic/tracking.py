"""Email tracking: links rewritten through /t/c/, an open pixel through /t/o/, and the
one-click unsubscribe URL (/t/u/, RFC 8058) for the List-Unsubscribe header.

Links are found by one forward pass over the HTML (`links`), never by a regex that
searches for a tag's end from every `<a`: that backtracks, and 100 KB of `<a ` took
minutes. Python 3.11's html.parser has the same fault on unfinished tags (99 KB of
`<a ` took 258 s), so the pass is our own: every step starts where the last one ended,
and a tag or comment that never ends stops it, as it ends the document for a browser."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from plexus.errors import Invalid
from services.messaging.logic.tokens import CLICK, OPEN, UNSUBSCRIBE, make_token

# What is tracked at most: the HTML as rendered (the renderer's own output cap) and the
# links in it; more is refused at send time rather than stored and sent half-tracked.
MAX_HTML = 512 * 1024
MAX_LINKS = 1_000
FIELD = "content.html"

_SPACE = "\t\n\f\r "
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_SPACES = re.compile(r"[\t\n\f\r /]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_TRACKED_SCHEME = re.compile(r"https?://", re.IGNORECASE)
# Elements whose content is text up to their end tag: an <a> in a script is no link.
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"}
)
BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def tracking_url(
    base_url: str, secret: str, kind: str, message_id: str, url: str | None = None
) -> str:
    return f"{base_url.rstrip('/')}/t/{kind}/{make_token(secret, kind, message_id, url)}"


def _attributes(source: str, at: int) -> tuple[int, dict[str, tuple[int, int]]] | None:
    """From just after a tag's name: (the index after its `>`, each attribute's value
    span (start, end) in `source`, the first of a name winning, as in a browser); None
    when the tag never ends."""
    spans: dict[str, tuple[int, int]] = {}
    size = len(source)
    while True:
        at = _SPACES.match(source, at).end()
        if at >= size:
            return None
        if source[at] == ">":
            return at + 1, spans
        name_end = _ATTRIBUTE_NAME.match(source, at).end()
        name = source[at:name_end].lower()
        at = name_end
        while at < size and source[at] in _SPACE:
            at += 1
        if at >= size:
            return None
        if source[at] != "=":
            spans.setdefault(name, (at, at))
            continue
        at += 1
        while at < size and source[at] in _SPACE:
            at += 1
        if at >= size:
            return None
        if source[at] in "\"'":
            close = source.find(source[at], at + 1)
            if close < 0:
                return None
            spans.setdefault(name, (at + 1, close))
            at = close + 1
        else:
            value_end = _UNQUOTED.match(source, at).end()
            spans.setdefault(name, (at, value_end))
            at = value_end


def links(source: str) -> Iterator[tuple[int, int]]:
    """The span of each <a> tag's href value, in order, in one pass over `source`."""
    lowered = None
    at = 0
    while (at := source.find("<", at)) >= 0:
        if source.startswith("<!--", at):
            end = source.find("-->", at + 4)
            if end < 0:
                return
            at = end + 3
            continue
        name = _TAG_NAME.match(source, at + 1)
        if name is None:  # "< ", "</a>", "<!doctype": nothing to track in them
            at += 1
            continue
        found = _attributes(source, name.end())
        if found is None:
            return
        at, spans = found
        tag = name.group().lower()
        if tag == "a" and "href" in spans:
            yield spans["href"]
        elif tag in _RAW_TEXT:
            lowered = lowered if lowered is not None else source.lower()
            end = lowered.find(f"</{tag}", at)
            if end < 0:
                return
            at = end


def track_html(source: str, base_url: str, secret: str, message_id: str) -> str:
    """The HTML with every http(s) link through /t/c/ and the open pixel before
    </body>; `Invalid` naming content.html when it is more than we track."""
    if len(source) > MAX_HTML:
        raise Invalid("the HTML is too large to track", {FIELD: [f"at most {MAX_HTML} characters"]})
    pieces, done, count = [], 0, 0
    for start, end in links(source):
        target = html.unescape(source[start:end]).strip(_SPACE)
        if not _TRACKED_SCHEME.match(target):
            continue  # mailto:, tel:, anchors stay as they are
        count += 1
        if count > MAX_LINKS:
            raise Invalid("too many links to track", {FIELD: [f"at most {MAX_LINKS} links"]})
        tracked = html.escape(tracking_url(base_url, secret, CLICK, message_id, target))
        quoted = start > 0 and source[start - 1] in "\"'"
        pieces += [source[done:start], tracked if quoted else f'"{tracked}"']
        done = end
    tracked = "".join(pieces) + source[done:]
    pixel = (
        f'<img src="{html.escape(tracking_url(base_url, secret, OPEN, message_id))}" '
        'width="1" height="1" alt="" style="display:none">'
    )
    if BODY_END.search(tracked):
        return BODY_END.sub(lambda m: pixel + m.group(0), tracked, count=1)
    return tracked + pixel


def unsubscribe_url(base_url: str, secret: str, message_id: str) -> str:
    return tracking_url(base_url, secret, UNSUBSCRIBE, message_id)
