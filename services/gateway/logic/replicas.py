"""How many gateway replicas are serving, so each can take its share of a key's rate
limit (ratelimit.py). Each replica stamps its own row in the gateway database every
`heartbeat` seconds and counts the rows stamped lately; a replica that stops deletes its
row, one that dies stops counting after `stale_after` seconds."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select, update

from services.gateway.models import GatewayReplica

REPLICAS = GatewayReplica.__table__


def beat(connection: Connection, replica_id: str, now: float, stale_after: float) -> int:
    """Say this replica is alive; the number of replicas alive (this one included)."""
    stamped = connection.execute(
        update(REPLICAS).where(REPLICAS.c.id == replica_id).values(seen_at=now)
    )
    if stamped.rowcount == 0:
        connection.execute(insert(REPLICAS).values(id=replica_id, seen_at=now))
    connection.execute(delete(REPLICAS).where(REPLICAS.c.seen_at < now - 10 * stale_after))
    alive = connection.execute(
        select(func.count()).select_from(REPLICAS).where(REPLICAS.c.seen_at >= now - stale_after)
    ).scalar()
    return max(1, alive)


def leave(connection: Connection, replica_id: str) -> None:
    connection.execute(delete(REPLICAS).where(REPLICAS.c.id == replica_id))
