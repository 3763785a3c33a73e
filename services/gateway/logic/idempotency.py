"""Idempotency-Key: the first answer to a (key, API key) pair is kept for a day and
given again to a retry with the same request; a different request under the same key
is refused. A first request still running makes a concurrent retry wait its turn (409).
A claim still unanswered after `abandoned_after` (GATEWAY.idempotency_abandoned_minutes)
belonged to a gateway that died between claiming the key and storing its answer: the
next retry takes it over and runs, instead of being refused for the rest of the day."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plexus.errors import Conflict, Invalid
from plexus.timeutil import utcnow
from services.gateway.models import IdempotencyRecord


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    headers: dict
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# A request is answered within the RPC deadline (seconds); a claim this old is nobody's.
ABANDONED_AFTER = timedelta(minutes=5)


def claim(
    session: Session,
    api_key_id: str,
    key: str,
    print_: str,
    ttl: timedelta,
    path: str = "",
    abandoned_after: timedelta = ABANDONED_AFTER,
) -> StoredAnswer | None:
    """Reserve the key for this request. Returns the stored answer of an earlier
    identical request, or None when this request is the first (or the first was
    abandoned) and should run."""
    if not key or len(key) > 255:
        raise Invalid("bad Idempotency-Key", {"Idempotency-Key": ["must be 1 to 255 characters"]})
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < utcnow() - ttl,
        )
    )
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyRecord(
                        api_key_id=api_key_id,
                        key=key,
                        fingerprint=print_,
                        path=path,
                        created_at=utcnow(),
                    )
                )
            return None
        except IntegrityError:  # a concurrent request claimed it first
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
                )
            )
    if record.fingerprint != print_:
        raise Invalid(
            "this Idempotency-Key was used with another request",
            {"Idempotency-Key": ["already used with a different body"]},
        )
    if record.status is None and _take_over(session, record.id, abandoned_after):
        return None
    if record.status is None:
        raise Conflict(
            "a request with this Idempotency-Key is still in progress",
            {"Idempotency-Key": ["in progress; retry shortly"]},
        )
    return StoredAnswer(record.status, record.headers or {}, record.body or "")


def _take_over(session: Session, record_id: int, abandoned_after: timedelta) -> bool:
    """Claim an unanswered record older than `abandoned_after` for this request. One
    UPDATE, so of two retries racing for it one wins and the other waits (409)."""
    taken = session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == record_id,
            IdempotencyRecord.status.is_(None),
            IdempotencyRecord.created_at < utcnow() - abandoned_after,
        )
        .values(created_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def store(session: Session, api_key_id: str, key: str, answer: StoredAnswer) -> None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    )
    if record is not None:
        record.status, record.headers, record.body = answer.status, answer.headers, answer.body


def release(session: Session, api_key_id: str, key: str) -> None:
    """The request failed on our side (5xx): forget it so a retry runs for real."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    )


def purge_expired(session: Session, ttl: timedelta) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - ttl)
    )
    return result.rowcount or 0


def forget_mentions(session: Session, resource_id: str) -> int:
    """Erasure: drop every kept answer to a request on that resource or naming it, of
    every API key (a kept answer to a create holds the contact's personal data)."""
    pattern = f"%{resource_id}%"
    result = session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.path.like(pattern) | IdempotencyRecord.body.like(pattern)
        )
    )
    return result.rowcount or 0
