"""How each provider signs its webhooks, checked in constant time. Used by the webhook
handling and, in reverse, by the tests and fakes that play the provider."""

from __future__ import annotations

import base64
import hashlib
import hmac


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the full URL followed by every POST
    parameter, sorted by name, as name + value."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def hex_hmac_sha256(secret: str, body: bytes) -> str:
    """Viber's X-Viber-Content-Signature (keyed with the bot's auth token) and our SMTP
    relay's X-Plexus-Signature (keyed with the shared webhook secret)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def relay_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Our SMTP relay's X-Plexus-Signature: hex HMAC-SHA256 of `<timestamp>.<body>`, the
    timestamp (Unix seconds) sent as X-Plexus-Timestamp, so a captured request cannot be
    sent again once it is more than REPLAY_WINDOW old (logic.webhooks)."""
    return hex_hmac_sha256(secret, timestamp.encode() + b"." + body)


def same(expected: str, given: str | None) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(expected.encode(), given.strip().encode())
    )
