"""API keys: made once and shown once, stored as a SHA-256 (keys are 256-bit random,
so a fast hash is enough), found by a clear prefix and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plexus.errors import Conflict, Invalid, NotFound
from plexus.ids import new_id
from plexus.timeutil import rfc3339, utcnow
from services.gateway.models import ApiKey

log = logging.getLogger(__name__)

SCOPES = (
    "contacts:read",
    "contacts:write",
    "activity:read",
    "activity:write",
    "messages:send",
    "segments:read",
    "segments:write",
    "campaigns:read",
    "campaigns:write",
    "admin",
)
KEY_PREFIX = "plx_"
PREFIX_LENGTH = 8


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name, and what it may do."""

    key_id: str
    name: str
    scopes: frozenset

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(secret: str) -> str | None:
    if not secret.startswith(KEY_PREFIX) or len(secret) < len(KEY_PREFIX) + PREFIX_LENGTH + 16:
        return None
    return secret[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH]


def describe(key: ApiKey) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": KEY_PREFIX + key.prefix,
        "scopes": list(key.scopes),
        "created_at": rfc3339(key.created_at),
        "revoked_at": rfc3339(key.revoked_at),
    }


def _check_new(name: str, scopes) -> list[str]:
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = ["must be 1 to 100 characters"]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        errors["scopes"] = [f"unknown scope {s!r}" for s in unknown] or ["give at least one"]
    if errors:
        raise Invalid("the API key is not valid", errors)
    return sorted(set(scopes))


def create_key(session: Session, name: str, scopes, secret: str | None = None):
    """Store a new key; returns (its description, the secret). The secret is not kept."""
    scopes = _check_new(name, scopes)
    secret = secret or KEY_PREFIX + secrets.token_urlsafe(32)
    prefix = _split(secret)
    if prefix is None:
        raise Invalid(
            "the key is too short",
            {"key": [f"must start with {KEY_PREFIX!r} and carry at least 24 characters"]},
        )
    key = ApiKey(
        id=new_id(),
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=scopes,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:
        raise Conflict(
            "a key with that name or prefix exists", {"name": ["already used by another key"]}
        ) from None
    return describe(key), secret


def list_keys(session: Session) -> list[dict]:
    return [describe(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.created_at))]


def revoke_key(session: Session, id_or_name: str) -> dict:
    key = session.scalar(
        select(ApiKey).where((ApiKey.id == id_or_name) | (ApiKey.name == id_or_name))
    )
    if key is None:
        raise NotFound(f"no API key {id_or_name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return describe(key)


def authenticate(session: Session | Connection, secret: str) -> Principal | None:
    prefix = _split(secret)
    if prefix is None:
        return None
    # Columns, not the ORM object: every request pays for this look-up.
    key = session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.secret_hash, ApiKey.revoked_at).where(
            ApiKey.prefix == prefix
        )
    ).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return Principal(key.id, key.name, frozenset(key.scopes))


def ensure_bootstrap_key(session: Session, secret: str) -> None:
    """PLEXUS_BOOTSTRAP_KEY: make sure that exact secret works as an admin key named
    `bootstrap` (replacing an older bootstrap secret, so rotating it is a restart).
    A revoked `bootstrap` key stays revoked, whatever the variable holds: it runs at
    every start, and a revocation that a restart undid would not be one."""
    existing = session.scalar(select(ApiKey).where(ApiKey.name == "bootstrap"))
    if existing is not None:
        if existing.revoked_at is not None:
            log.warning(
                "PLEXUS_BOOTSTRAP_KEY is set but the bootstrap key was revoked at %s: it "
                "stays revoked. Unset the variable; make admin keys with `plexus apikey "
                "create`.",
                rfc3339(existing.revoked_at),
            )
            return
        if hmac.compare_digest(existing.secret_hash, _hash(secret)):
            return
        session.delete(existing)
        session.flush()
    create_key(session, "bootstrap", ["admin"], secret=secret)
