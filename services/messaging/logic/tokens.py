"""Signed tracking tokens: `<payload>.<mac>`, both base64url, the payload a JSON list
[kind, message_id, url?] and the mac an HMAC-SHA256 of it under the tracking secret.
Nothing in a token can be changed (another message, another redirect target) without
the secret; a click token signs its URL, so /t/c/ is no open redirect. A token is made
under the newest secret and read under any the service still accepts (rotation)."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from plexus.errors import NotFound
from plexus.signing import b64 as _b64
from plexus.signing import mac as _mac
from plexus.signing import unb64 as _unb64

OPEN, CLICK, UNSUBSCRIBE, PUSH = "o", "c", "u", "p"


def sign_bytes(secret: str, kind: str, payload: bytes) -> bytes:
    """The full HMAC-SHA256 of a binary payload of that kind (the short forms cut it)."""
    return hmac.new(secret.encode(), kind.encode() + b"." + payload, hashlib.sha256).digest()


def make_token(secret: str, kind: str, message_id: str, url: str | None = None) -> str:
    fields = [kind, message_id] + ([url] if url is not None else [])
    payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def _signed(secrets: Sequence[str], payload: str, mac: str) -> bool:
    # Every secret is tried, so the time taken does not say which one matched.
    matches = [
        hmac.compare_digest(mac.encode(), _mac(secret, payload).encode()) for secret in secrets
    ]
    return any(matches)


def read_token(secrets: str | Sequence[str], kind: str, token: str) -> tuple[str, str | None]:
    """(message_id, url) of a genuine token of that kind, signed under any of `secrets`;
    NotFound for anything else, so a guess learns nothing."""
    secrets = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    payload, _, mac = (token or "").partition(".")
    if not payload or not _signed(secrets, payload, mac):
        raise NotFound("unknown link")
    try:
        fields = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise NotFound("unknown link") from None
    if not isinstance(fields, list) or len(fields) not in (2, 3) or fields[0] != kind:
        raise NotFound("unknown link")
    return fields[1], (fields[2] if len(fields) == 3 else None)
