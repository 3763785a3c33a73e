"""What the gateway stores: API keys (hashed) and idempotency records."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plexus.timeutil import utcnow


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The first characters of the secret, stored in clear to find the row; the whole
    # key is only ever stored as its SHA-256.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(String(26))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Kept so that erasing a resource can find the answers that mention it.
    path: Mapped[str | None] = mapped_column(String(2048))
    # Null while the first request is still being answered.
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True)


class RateLimitBucket(Base):
    """A token bucket per API key and class of route. Kept in the database, so every
    gateway process draws from the same bucket."""

    __tablename__ = "rate_limit_buckets"

    api_key_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch: plain arithmetic, the same on SQLite and PostgreSQL.
    updated_at: Mapped[float] = mapped_column(Float)
    # Whether the last UPDATE took a token: what it RETURNS to its caller.
    granted: Mapped[bool] = mapped_column(Boolean, server_default=false())
