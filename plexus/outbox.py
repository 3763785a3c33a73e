"""The transactional outbox: an event is written as a row in the same transaction as
the change it announces, and a relay publishes committed rows to the service's nameko
events exchange, up to BATCH rows a pass with their confirmations pipelined
(plexus.publishing), deleting the rows once the broker confirmed them all. A crash
between commit and publish leaves the rows for the next sweep, so no event is lost; one
between publish and delete sends them again, which consumers absorb by deduplicating on
`event_id`."""

from __future__ import annotations

import logging

import eventlet
import nameko
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from sqlalchemy import JSON, DateTime, Integer, String, cast, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from plexus import tracing
from plexus.bulk import insert_rows
from plexus.config import broker_uri
from plexus.db import Database, transaction
from plexus.ids import new_id
from plexus.metrics import service_counter, service_gauge
from plexus.publishing import ConfirmedPublisher, Outgoing
from plexus.timeutil import rfc3339, utcnow

log = logging.getLogger(__name__)

BATCH = 1000


class OutboxRow:
    """Mixin for a service's `outbox` table: `class Outbox(OutboxRow, Base)`."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


def event_body(event_type: str, payload: dict) -> dict:
    """An event as it is published: its name, a new id and the moment, the trace of the
    request that caused it (plexus.tracing; none outside one), then the payload."""
    return {
        "event": event_type,
        "event_id": new_id(),
        "occurred_at": rfc3339(utcnow()),
        **tracing.event_fields(),
        **payload,
    }


def record_event(session: Session, outbox_model: type, event_type: str, payload: dict) -> dict:
    """Add an event to the current transaction; it is published after the commit."""
    body = event_body(event_type, payload)
    session.add(outbox_model(event_type=event_type, payload=body))
    session.info["outbox_dirty"] = True
    return body


def record_events(session: Session, outbox_model: type, bodies: list[dict]) -> None:
    """Add events made by `event_body`, in their order, with one multi-row INSERT (a
    batch's events); they are published after the commit."""
    if not bodies:
        return
    now = utcnow()
    insert_rows(
        session,
        outbox_model,
        [{"event_type": body["event"], "payload": body, "created_at": now} for body in bodies],
    )
    session.info["outbox_dirty"] = True


def forget_contact(session: Session, outbox_model: type[OutboxRow], contact_id: str) -> None:
    """Erasure: take an erased contact out of the events not published yet. An event about
    it alone goes; one listing it among others (`items` with a contact_id each, or
    `contact_ids`) is kept without it, and goes when nothing else is left."""
    mentioning = session.scalars(
        select(outbox_model).where(cast(outbox_model.payload, String).contains(contact_id))
    ).all()
    for row in mentioning:
        payload = dict(row.payload)
        if payload.get("contact_id") == contact_id:
            session.delete(row)
            continue
        if "items" in payload:
            payload["items"] = [
                item for item in payload["items"] if item.get("contact_id") != contact_id
            ]
        if "contact_ids" in payload:
            payload["contact_ids"] = [c for c in payload["contact_ids"] if c != contact_id]
        if payload.get("items") == [] or payload.get("contact_ids") == []:
            session.delete(row)
        else:
            row.payload = payload


def publish_pending(session: Session, outbox_model: type[OutboxRow], publish_many) -> int:
    """Publish up to BATCH committed events in order and delete them; returns how many.
    SKIP LOCKED lets several processes of one service relay side by side on PostgreSQL."""
    rows = session.execute(
        select(outbox_model.id, outbox_model.event_type, outbox_model.payload)
        .order_by(outbox_model.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        publish_many([(row.event_type, row.payload) for row in rows])
        session.execute(delete(outbox_model).where(outbox_model.id.in_([r.id for r in rows])))
    return len(rows)


class OutboxRelay(DependencyProvider):
    """Runs beside the service: wakes after each commit that recorded events, and sweeps
    every OUTBOX_SWEEP_INTERVAL seconds for rows left by a crash or a broker outage."""

    def __init__(
        self, outbox_model: type[OutboxRow], exchange=None, declare=(), what: str = "events"
    ):
        # Another exchange than the service's events one (messaging's deliveries), the
        # queues to declare before publishing to it, and the word naming the metrics.
        self.outbox_model = outbox_model
        self.fixed_exchange = exchange
        self.declare = list(declare)
        self.what = what
        self.wakeup = Event()
        self.running = False

    def setup(self) -> None:
        service = self.container.service_name
        self.database = next(
            dep for dep in self.container.dependencies if isinstance(dep, Database)
        )
        self.exchange = self.fixed_exchange or get_event_exchange(service)
        self.publisher = ConfirmedPublisher(
            broker_uri(nameko.config), declare=[self.exchange, *self.declare]
        )
        self.interval = float(nameko.config.get("OUTBOX_SWEEP_INTERVAL") or 1)
        self.published = service_counter(
            service,
            "plexus_outbox_published_total",
            "Rows the outbox relay published to the broker, by outbox and event.",
            ["outbox", "event"],
        )
        self.pending = service_gauge(
            service,
            "plexus_outbox_pending",
            "Committed rows not yet published, after the last relay pass, by outbox.",
            ["outbox"],
        ).labels(self.what)
        self.database.commit_listeners.append(self._wake)

    def start(self) -> None:
        self.running = True
        self.container.spawn_managed_thread(self._run, identifier="outbox-relay")

    def stop(self) -> None:
        self.running = False
        self._wake()

    def kill(self) -> None:
        self.publisher.close()

    def _wake(self) -> None:
        if not self.wakeup.ready():
            self.wakeup.send(True)

    def _publish_many(self, events: list[tuple[str, dict]]) -> None:
        self.publisher.publish_many(
            [
                Outgoing(
                    self.exchange.name,
                    event_type,
                    payload,
                    payload.get("event_id"),
                    tracing.headers_of(payload),
                )
                for event_type, payload in events
            ]
        )
        for event_type, _ in events:
            self.published.labels(outbox=self.what, event=event_type).inc()

    def _run(self) -> None:
        failures = 0
        while self.running:
            with eventlet.Timeout(self.interval, False):
                self.wakeup.wait()
            # eventlet refuses to reset an Event nobody sent (a sweep woken by the timer).
            if self.wakeup.ready():
                self.wakeup.reset()
            try:
                self.relay_all()
                failures = 0
            except Exception as error:  # broker or database away: back off, keep rows
                failures += 1
                log.warning("outbox relay failed (%s); retrying", type(error).__name__)
                eventlet.sleep(min(30.0, 0.5 * 2**failures))

    def relay_all(self) -> None:
        while True:
            with transaction(self.database.session_factory) as session:
                sent = publish_pending(session, self.outbox_model, self._publish_many)
            if sent < BATCH:
                break
        with transaction(self.database.session_factory) as session:
            self.pending.set(
                session.scalar(select(func.count()).select_from(self.outbox_model)) or 0
            )
