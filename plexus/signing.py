"""Signed tokens' pieces, shared by every service that puts one in a link (tracking
links, the subscription form's confirmation): base64url without padding, and a short
HMAC-SHA256 of a payload under a server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

MAC_BYTES = 16  # 128 bits: forging one is out of reach, and links stay short


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return b64(digest[:MAC_BYTES])
