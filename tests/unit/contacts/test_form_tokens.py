"""The form's confirmation tokens: what a link carries comes back only from a link made
with the secret, and only until it expires."""

import base64
import json

import pytest

from plexus.errors import Gone, NotFound
from services.contacts.logic.form_tokens import make_token, read_token

SECRET = "forms-secret-for-tests"
REQUEST = {
    "email": "olena@example.com",
    "first_name": "Олена",
    "categories": ["news"],
    "language": "uk",
}


def test_a_token_carries_the_request_until_it_expires():
    token = make_token(SECRET, REQUEST, expires=1_000)
    assert read_token(SECRET, token, now=999) == REQUEST
    assert read_token(SECRET, token, now=1_000) == REQUEST
    with pytest.raises(Gone):
        read_token(SECRET, token, now=1_001)


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _flip(t, 3),  # the payload (another address...)
        lambda t: _flip(t, len(t) - 2),  # the mac
        lambda t: t.split(".")[0],  # no mac
        lambda t: "." + t.split(".")[1],  # no payload
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: make_token("another-secret", REQUEST, 10**10),
    ],
)
def test_a_tampered_or_foreign_token_is_not_found(tamper):
    token = make_token(SECRET, REQUEST, expires=10**10)
    with pytest.raises(NotFound):
        read_token(SECRET, tamper(token), now=0)


def test_an_expired_token_edited_to_a_later_expiry_is_not_found():
    payload, mac = make_token(SECRET, REQUEST, expires=100).split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields["x"] = 10**10
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    with pytest.raises(NotFound):
        read_token(SECRET, f"{forged}.{mac}", now=200)
