"""Google's OAuth 2.0 for service accounts (RFC 7523, the JWT bearer grant), as FCM's
HTTP v1 API wants it, without Google's SDK: a JWT signed RS256 with the service
account's private key, claiming iss (the account's email), scope, aud (the token URI),
iat and exp, is exchanged at the token URI for an access token, which is kept and
reused until shortly before it expires.

The service-account file is the JSON key Google's console downloads: `client_email`,
`private_key` (PEM), `private_key_id`, `token_uri`, `project_id`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from plexus.signing import b64
from services.messaging.senders.providers import TemporaryFailure
from services.messaging.senders.providers.http import post

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Google accepts an assertion valid for an hour at most.
ASSERTION_SECONDS = 3600
# A token is renewed this long before it expires, so none is sent as it runs out.
RENEW_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    key: rsa.RSAPrivateKey
    key_id: str | None
    token_uri: str
    project_id: str | None

    @classmethod
    def from_file(cls, path: str | Path, token_uri: str | None = None) -> ServiceAccount:
        """The account in a key file; ValueError naming what is wrong with it."""
        try:
            info = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read the service account file {path}: {error}") from None
        return cls.from_info(info, token_uri)

    @classmethod
    def from_info(cls, info: dict, token_uri: str | None = None) -> ServiceAccount:
        missing = [name for name in ("client_email", "private_key") if not info.get(name)]
        if missing:
            raise ValueError("the service account has no " + ", ".join(missing))
        try:
            key = serialization.load_pem_private_key(info["private_key"].encode(), None)
        except (ValueError, TypeError) as error:
            raise ValueError(f"the service account's private_key: {error}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the service account's private_key is not an RSA key")
        return cls(
            email=info["client_email"],
            key=key,
            key_id=info.get("private_key_id"),
            token_uri=token_uri or info.get("token_uri") or DEFAULT_TOKEN_URI,
            project_id=info.get("project_id"),
        )

    def assertion(self, now: float, scope: str = SCOPE) -> str:
        """The signed JWT (RS256) asking for an access token of `scope`."""
        header = {"alg": "RS256", "typ": "JWT"}
        if self.key_id:
            header["kid"] = self.key_id
        issued = int(now)
        claims = {
            "iss": self.email,
            "scope": scope,
            "aud": self.token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_SECONDS,
        }
        signing_input = ".".join(
            b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"


class AccessTokens:
    """The account's current access token, asked for when there is none or it is about
    to expire; one exchange at a time (the workers of a sender share it)."""

    def __init__(
        self,
        account: ServiceAccount,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        exchange=post,
    ):
        self.account = account
        self.timeout = timeout
        self.clock = clock
        self.exchange = exchange
        self.lock = threading.Lock()
        self.token: str | None = None
        self.expires_at = 0.0

    def current(self) -> str:
        with self.lock:
            now = self.clock()
            if self.token is None or now >= self.expires_at - RENEW_MARGIN_SECONDS:
                self.token, self.expires_at = self._ask(now)
            return self.token

    def forget(self, token: str) -> None:
        """The API refused `token` (401): the next send asks for a new one."""
        with self.lock:
            if self.token == token:
                self.token = None

    def _ask(self, now: float) -> tuple[str, float]:
        status, answer = self.exchange(
            self.account.token_uri,
            form={"grant_type": GRANT_TYPE, "assertion": self.account.assertion(now)},
            timeout=self.timeout,
        )
        token = answer.get("access_token")
        if status != 200 or not isinstance(token, str) or not token:
            # A refused grant is the config's (a revoked key, a wrong clock): retried like
            # the provider being away, so the messages wait for it to be fixed.
            reason = answer.get("error_description") or answer.get("error") or "no access token"
            raise TemporaryFailure(f"OAuth token exchange: HTTP {status}: {reason}")
        lifetime = answer.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) else ASSERTION_SECONDS
        return token, now + lifetime
