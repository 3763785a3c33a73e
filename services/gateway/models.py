"""What the gateway stores: API keys (hashed), idempotency records, and which gateway
replicas are serving (rate-limit buckets are in each process's memory)."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import plexus.db
from plexus.timeutil import utcnow

# Kept by migration 0005 for gateways of the previous version during a rolling upgrade;
# no model maps it (plexus migrations check knows).
RETIRED_TABLES = ("rate_limit_buckets",)


class Base(plexus.db.Base):
    __abstract__ = True
    metadata = plexus.db.service_metadata()


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
        DateTime(timezone=True), default=utcnow, index=True
    )


class GatewayReplica(Base):
    """A gateway process serving now: replicas share each key's rate limit between them
    (logic/replicas.py)."""

    __tablename__ = "gateway_replicas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch of its last heartbeat.
    seen_at: Mapped[float] = mapped_column(Float, index=True)
