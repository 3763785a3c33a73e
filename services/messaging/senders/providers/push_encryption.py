"""RFC 8291 message encryption for web push: the payload encrypted with aes128gcm
(RFC 8188, one record) to the browser's P-256 key (p256dh) and auth secret, keyed by a
fresh sender key pair for every message."""

from __future__ import annotations

import os

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

from services.messaging.senders.providers.vapid import b64url_decode

RECORD_SIZE = 4096
# A push service takes a 4096-byte body (RFC 8291 §4): the 86-byte header (salt, record
# size, key id = our 65-byte public key), the 16-byte tag and the padding delimiter.
MAX_PAYLOAD = RECORD_SIZE - 86 - 16 - 1


class PayloadTooLarge(ValueError):
    pass


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise PayloadTooLarge(f"{len(payload)} bytes; a push message holds {MAX_PAYLOAD}")
    return http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(p256dh),
        auth_secret=b64url_decode(auth),
        rs=RECORD_SIZE,
        version="aes128gcm",
    )
