"""Email tracking: links rewritten through /t/c/, an open pixel through /t/o/, and the
one-click unsubscribe URL (/t/u/, RFC 8058) for the List-Unsubscribe header."""

from __future__ import annotations

import html
import re

from services.messaging.logic.tokens import CLICK, OPEN, UNSUBSCRIBE, make_token

# href="http(s)://..." in an <a> tag; other schemes (mailto:, tel:) stay as they are.
LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def tracking_url(base_url: str, secret: str, kind: str, message_id: str,
                 url: str | None = None) -> str:
    return f"{base_url.rstrip('/')}/t/{kind}/{make_token(secret, kind, message_id, url)}"


def track_html(source: str, base_url: str, secret: str, message_id: str) -> str:
    def rewrite(match: re.Match) -> str:
        target = html.unescape(match.group(3))
        tracked = tracking_url(base_url, secret, CLICK, message_id, target)
        return f"{match.group(1)}{match.group(2)}{html.escape(tracked)}{match.group(2)}"

    tracked = LINK.sub(rewrite, source)
    pixel = (f'<img src="{html.escape(tracking_url(base_url, secret, OPEN, message_id))}" '
             'width="1" height="1" alt="" style="display:none">')
    if BODY_END.search(tracked):
        return BODY_END.sub(lambda m: pixel + m.group(0), tracked, count=1)
    return tracked + pixel


def unsubscribe_url(base_url: str, secret: str, message_id: str) -> str:
    return tracking_url(base_url, secret, UNSUBSCRIBE, message_id)
