"""The senders' provider rate limits, one token bucket a sender shared by all its
processes (however many replicas run): at most `per_second` sends a second, with bursts
of up to one second's worth (at least one send).

A bucket is one row holding `next_free`, the moment its next send may go. Reserving a
slot is one UPDATE ... RETURNING, atomic on SQLite (one writer at a time) and on
PostgreSQL (the row's lock): the slot is the later of `next_free` and the earliest time
unused credit allows (now minus the burst), and `next_free` moves one interval past it.
The caller waits until its slot; concurrent callers get distinct slots one interval
apart, whichever messaging process answers them.

Times are seconds since the epoch on the messaging process's clock (the sender is told
only how long to wait). Messaging replicas on different hosts must keep their clocks in
step (NTP): a replica δ seconds ahead lets its callers send up to δ early."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import case, update
from sqlalchemy.orm import Session

from plexus.bulk import insert_new
from services.messaging.models import RateBucket

BUCKETS = RateBucket.__table__
# A wait shorter than this is answered as none: a second claim would cost the sender more
# (an RPC, 1-2 ms) than going that early, and double arithmetic on epoch seconds leaves
# slots a fraction of a microsecond off.
SHORTEST_WAIT = 0.001


class SenderLimit(Schema):
    """What a sender's claim says of its limit: its bucket and its config's rate."""

    bucket = fields.String(required=True, validate=validate.Length(min=1, max=64))
    per_second = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1_000_000)
    )


def burst_seconds(per_second: float) -> float:
    """How much unused time may be saved up: one second, or one interval if longer."""
    return max(1.0, per_second) / per_second


def reserve(session: Session, name: str, per_second: float, now: float) -> float:
    """Takes the next free slot of bucket `name`; returns how long to wait for it (0:
    send now). The row lock (PostgreSQL) is held until the caller's commit: reserve
    last in a transaction."""
    interval = 1.0 / per_second
    earliest = now - burst_seconds(per_second) + interval
    slot = case((BUCKETS.c.next_free > earliest, BUCKETS.c.next_free), else_=earliest)
    taking = (
        update(BUCKETS)
        .where(BUCKETS.c.name == name)
        .values(next_free=slot + interval)
        .returning(BUCKETS.c.next_free)
    )
    next_free = session.scalar(taking)
    if next_free is None:  # the sender's first send: its bucket starts full
        insert_new(session, RateBucket, [{"name": name, "next_free": 0.0}])
        next_free = session.scalar(taking)
    wait = next_free - interval - now
    return wait if wait >= SHORTEST_WAIT else 0.0
