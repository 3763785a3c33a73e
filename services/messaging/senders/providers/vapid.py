"""VAPID (RFC 8292): the P-256 key pair that names this application to every push
service, and the Authorization header signed with it for one push service.

The private key is MESSAGING.providers.webpush.vapid_private_key (raw 32 bytes,
base64url, as `web-push generate-vapid-keys` prints it), else one made on first use
and kept in DATA_DIR/vapid-private-key. Browsers subscribe with the public key
(`plexus webpush public-key`), so it must not change once subscriptions exist."""

from __future__ import annotations

import base64
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from services.messaging.settings import kept_secret, provider_settings

# RFC 8292 §2: a push service may refuse a token valid for more than 24 hours.
TOKEN_LIFETIME = 12 * 3600


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def private_key(config: dict) -> str:
    configured = provider_settings(config, "webpush").get("vapid_private_key")
    if configured:
        return str(configured).strip()
    return kept_secret(config, "vapid-private-key", new_private_key)


def load(private: str) -> Vapid02:
    """The signer for a raw (32 bytes) or DER private key, base64url."""
    return Vapid02.from_string(private)


def public_key(vapid: Vapid02) -> str:
    """The applicationServerKey a browser subscribes with: the uncompressed point."""
    return b64url(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def origin(endpoint: str) -> str:
    parts = urllib.parse.urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def authorization(vapid: Vapid02, endpoint: str, subject: str, now: float | None = None) -> str:
    """`vapid t=<JWT>,k=<public key>` for the push service of `endpoint` (the JWT's aud
    is its origin, RFC 8292 §2)."""
    now = time.time() if now is None else now
    claims = {"aud": origin(endpoint), "exp": int(now) + TOKEN_LIFETIME, "sub": subject}
    return vapid.sign(claims)["Authorization"]
