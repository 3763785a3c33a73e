"""The subscription form's confirmation tokens: `<payload>.<mac>`, both base64url. The
payload is what the form asked for and when the link stops working, as JSON; the mac an
HMAC-SHA256 of it under the forms secret (FORMS.secret). Nothing in a token can be
changed (another address, more categories, a later expiry) without the secret, so a
token needs no row: the link itself is the pending request."""

from __future__ import annotations

import binascii
import hmac
import json

from plexus.errors import Gone, NotFound
from plexus.signing import b64, mac, unb64

FIELDS = {"e": "email", "n": "first_name", "c": "categories", "l": "language"}


def make_token(secret: str, request: dict, expires: float) -> str:
    """A token for the form's `request` (email, first_name, categories, language),
    good until `expires` (Unix seconds)."""
    fields = {short: request.get(name) for short, name in FIELDS.items()}
    fields["x"] = int(expires)
    payload = b64(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{mac(secret, payload)}"


def read_token(secret: str, token: str, now: float) -> dict:
    """The request a genuine token carries; NotFound for anything not made with the
    secret (a guess or an edit learns nothing), Gone once it has expired."""
    payload, _, signed = (token or "").partition(".")
    if not payload or not hmac.compare_digest(signed.encode(), mac(secret, payload).encode()):
        raise NotFound("this confirmation link is not valid")
    try:
        fields = json.loads(unb64(payload))
    except (binascii.Error, ValueError):
        raise NotFound("this confirmation link is not valid") from None
    if not isinstance(fields, dict) or not isinstance(fields.get("x"), int):
        raise NotFound("this confirmation link is not valid")
    if now > fields["x"]:
        raise Gone("this confirmation link has expired: subscribe again to get a new one")
    return {name: fields.get(short) for short, name in FIELDS.items()}
