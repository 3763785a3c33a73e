"""Tracked links in text messages (SMS, Telegram, Viber): every http(s) URL in the body
goes through /t/c/ like an email link, but with a short token, since an SMS is paid by
the 160-character segment.

The short token names the message and the link's place in the body (the n-th URL) and
carries no URL: 16 bytes of the message's ULID, 2 of the index and a 96-bit HMAC,
base64url: 40 characters, no dot (the long email form always has one). The URL comes
back from the message's stored content, which is the body as rendered, before tracking:
the same pass finds the same n-th URL. 96 bits of MAC are as far out of reach of a guess
as the email form's 128."""

from __future__ import annotations

import binascii
import hmac
import re
from collections.abc import Sequence

from plexus.errors import NotFound
from plexus.ids import from_bytes, to_bytes
from plexus.signing import b64, unb64
from services.messaging.logic.tokens import CLICK, sign_bytes

# A URL in a text: up to the first space or a character that ends a sentence around it
# (a trailing . , ; : ! ? ) ' " is punctuation, not part of the link).
URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)'\""
MAC_BYTES = 12
MAX_LINKS = 100
TEXT_CHANNELS = ("sms", "telegram", "viber")


def urls(text: str) -> list[tuple[int, int]]:
    """The span of each URL in `text`, in order (at most MAX_LINKS are tracked)."""
    spans = []
    for found in URL.finditer(text or ""):
        end = found.end()
        while end > found.start() and text[end - 1] in _TRAILING:
            end -= 1
        spans.append((found.start(), end))
    return spans[:MAX_LINKS]


def short_token(secret: str, message_id: str, index: int) -> str:
    payload = to_bytes(message_id) + index.to_bytes(2, "big")
    return b64(payload + sign_bytes(secret, CLICK, payload)[:MAC_BYTES])


def read_short_token(secrets: Sequence[str], token: str) -> tuple[str, int]:
    """(message_id, link index) of a genuine short token; NotFound for anything else."""
    try:
        raw = unb64(token or "")
    except (binascii.Error, ValueError):
        raise NotFound("unknown link") from None
    if len(raw) != 18 + MAC_BYTES:
        raise NotFound("unknown link")
    payload, mac = raw[:18], raw[18:]
    matches = [
        hmac.compare_digest(mac, sign_bytes(secret, CLICK, payload)[:MAC_BYTES])
        for secret in secrets
    ]
    if not any(matches):
        raise NotFound("unknown link")
    return from_bytes(payload[:16]), int.from_bytes(payload[16:], "big")


def track_text(text: str, base_url: str, secret: str, message_id: str) -> str:
    """The text with each URL replaced by its short /t/c/ link."""
    pieces, done = [], 0
    base = base_url.rstrip("/")
    for index, (start, end) in enumerate(urls(text)):
        pieces += [text[done:start], f"{base}/t/c/{short_token(secret, message_id, index)}"]
        done = end
    return "".join(pieces) + text[done:]


def url_at(text: str, index: int) -> str:
    """The index-th URL of the text as it was rendered; NotFound past the last."""
    spans = urls(text)
    if not 0 <= index < len(spans):
        raise NotFound("unknown link")
    start, end = spans[index]
    return text[start:end]
