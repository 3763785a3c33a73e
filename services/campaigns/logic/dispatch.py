"""The dispatcher: each pass, every running campaign's due recipients handed to
messaging (queue_batch) a chunk at a time, and each answer recorded with the counters
it moves in the same transaction.

A chunk is claimed, sent and recorded in one transaction: on PostgreSQL the rows are
taken `FOR UPDATE SKIP LOCKED`, so two campaigns processes never take the same rows,
and the locks are held over the call; on SQLite (one writer per process,
plexus.sqlite_writer) the claim is a read, and the writer is taken only to record, after
the call. Either way a crash between messaging's commit and ours is harmless: each item's
key is "campaign:<id>:<contact>", and messaging answers the same key again with the
message it queued then, queueing nothing new. So each member gets one message at most,
whatever restarts or redeliveries happen.

On PostgreSQL an unthrottled campaign keeps `in_flight` chunks going at once (6 by
default): the claims skip each other's locked rows, and messaging, contacts and the
database work on one chunk while campaigns records another, so the suite's processes
share the machine's cores instead of waiting in turn. SQLite's claim locks nothing, and
a throttle counts what was recorded before the claim, so those go one chunk at a
time."""

from __future__ import annotations

import functools
import logging
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from plexus.errors import Invalid, Unavailable
from services.campaigns.logic import counters, split, throttle
from services.campaigns.logic.starting import CHUNK, release
from services.campaigns.logic.timing import aware
from services.campaigns.models import Campaign, Recipient

log = logging.getLogger(__name__)

ACTOR = "system"
# Dispatch outcomes by campaign, for the metrics: {"queued": n, "refused.<reason>": n}.
Outcomes = Tally


def item_key(campaign_id: str, contact_id: str) -> str:
    return f"campaign:{campaign_id}:{contact_id}"


def message_item(campaign: Campaign, recipient) -> dict:
    """The queue_batch item of a claimed recipient (its contact_id and variant)."""
    template_id = campaign.template_id
    trigger: dict = {"campaign_id": campaign.id}
    if campaign.ab:
        templates = {variant["name"]: variant["template_id"] for variant in campaign.ab["variants"]}
        template_id = templates.get(recipient.variant or "", template_id)
        trigger["variant"] = recipient.variant
    return {
        "key": item_key(campaign.id, recipient.contact_id),
        "contact_id": recipient.contact_id,
        "channel": campaign.channel,
        "template_id": template_id,
        "origin": "ab_test" if campaign.ab else "campaign",
        "category": campaign.category,
        "trigger": trigger,
    }


def record(session: Session, campaign: Campaign, rows: list, answers: list, now) -> Tally:
    """Each answer on its recipient, in an UPDATE an outcome for the chunk, and the
    counters: {"queued": n, "refused.x": n}."""
    if len(answers) != len(rows):
        raise Unavailable(f"messaging answered {len(answers)} items for {len(rows)}")
    tally: Tally = Tally()
    by_variant: Tally = Tally()  # an A/B test's counters of each variant, not metrics
    message_ids, reasons = {}, {}  # by contact
    for recipient, answer in zip(rows, answers, strict=True):
        contact_id = recipient.contact_id
        if answer.get("key") not in (None, item_key(campaign.id, contact_id)):
            raise Unavailable("messaging answered items out of order")
        if answer.get("status") == "queued":
            status, message_ids[contact_id] = "queued", answer.get("message_id")
            tally["queued"] += 1
        else:
            status = "refused"
            reasons[contact_id] = reason = str(answer.get("reason") or "unknown")
            tally[f"{counters.REFUSED}{reason}"] += 1
        if recipient.variant:
            by_variant[counters.of_variant(recipient.variant, status)] += 1
    # One UPDATE an outcome: the queued ones with their message ids, the refused ones
    # with their reasons (a CASE by contact each: building one is most of the cost).
    for status, values in (("queued", message_ids), ("refused", reasons)):
        if not values:
            continue
        column = Recipient.message_id if status == "queued" else Recipient.reason
        session.execute(
            update(Recipient)
            .where(
                Recipient.campaign_id == campaign.id,
                Recipient.contact_id.in_(list(values)),
                Recipient.status == "pending",
            )
            .values(
                {
                    Recipient.status: status,
                    column: case(values, value=Recipient.contact_id, else_=None),
                    Recipient.dispatched_at: now,
                }
            )
            .execution_options(synchronize_session=False)
        )
    counters.add(session, campaign.id, tally + by_variant)
    return tally


def _dispatched_lately(session: Session, campaign_id: str, now: datetime) -> int:
    return session.scalar(
        select(func.count()).where(
            Recipient.campaign_id == campaign_id,
            Recipient.dispatched_at > throttle.window_start(now),
        )
    )


def dispatch_chunk(transaction, campaign_id: str, messaging, now: datetime, chunk: int):
    """One chunk claimed, sent and recorded: its tally, or None when nothing is due (or
    the campaign is not running, or its throttle is spent)."""
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != "running":
            return None
        lately = (
            _dispatched_lately(session, campaign_id, now) if campaign.throttle_per_minute else 0
        )
        limit = throttle.allowance(campaign.throttle_per_minute, lately, chunk)
        if limit == 0:
            return None
        rows = list(
            session.execute(
                select(Recipient.contact_id, Recipient.variant)
                .where(
                    Recipient.campaign_id == campaign_id,
                    Recipient.status == "pending",
                    Recipient.due_at <= now,
                )
                .order_by(Recipient.due_at, Recipient.contact_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not rows:
            return None
        try:
            answers = messaging.queue_batch([message_item(campaign, row) for row in rows], ACTOR)
        except Invalid as error:
            # Not one member's fault: a template deleted, or no longer usable, since
            # the campaign was made. Paused until someone fixes it and resumes.
            log.warning("campaign %s paused: messaging refused its batch: %s", campaign_id, error)
            campaign.status, campaign.updated_at = "paused", now
            return None
        return record(session, campaign, rows, answers, now)


def decide(transaction, campaign_id: str, now: datetime, default_zone: str) -> None:
    """An A/B test past its wait: the winner chosen (once), then the rest released to it,
    a chunk a transaction (a crash goes on with the held ones left)."""
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or not campaign.ab or campaign.loading:
            return
        if campaign.winner is None:
            decide_at = aware(campaign.decide_at)
            if decide_at is None or decide_at > now:
                return
            named = counters.counts(session, [campaign_id])[campaign_id]
            variants = [variant["name"] for variant in campaign.ab["variants"]]
            campaign.winner = split.winner(variants, named, campaign.ab["metric"])
        winner, base = campaign.winner, aware(campaign.decide_at)
        local_time = campaign.local_time
    while True:
        with transaction() as session:
            held = list(
                session.scalars(
                    select(Recipient.contact_id)
                    .where(Recipient.campaign_id == campaign_id, Recipient.status == "held")
                    .order_by(Recipient.contact_id)
                    .limit(CHUNK)
                )
            )
            if not held:
                return
            to_winner = dict.fromkeys(held, winner)
            release(session, campaign_id, held, to_winner, base, local_time, default_zone)


def finish_if_done(session: Session, campaign_id: str, now: datetime) -> bool:
    """Running, audience read, and every recipient has an outcome: finished."""
    waiting = exists().where(
        Recipient.campaign_id == campaign_id, Recipient.status.in_(("held", "pending"))
    )
    done = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == "running",
            Campaign.loading.is_(False),
            ~waiting,
        )
        .values(status="finished", updated_at=now)
    )
    return bool(done.rowcount)


def running_campaigns(session: Session) -> list[Campaign]:
    return list(
        session.scalars(select(Campaign).where(Campaign.status == "running").order_by(Campaign.id))
    )


def _dispatch_due(transaction, campaign_id: str, messaging, now: datetime, chunk: int) -> Tally:
    """Chunk after chunk of one campaign until nothing is due or a chunk comes short."""
    tally: Tally = Tally()
    while (done := dispatch_chunk(transaction, campaign_id, messaging, now, chunk)) is not None:
        tally.update(done)
        if sum(done.values()) < chunk:
            break
    return tally


def _lanes(session: Session, campaign: Campaign, in_flight: int) -> int:
    """How many chunks of this campaign may be in flight at once (see the module's text)."""
    if campaign.throttle_per_minute or session.get_bind().dialect.name != "postgresql":
        return 1
    return max(1, in_flight)


def dispatch_pass(
    transaction,
    messaging,
    now: datetime,
    chunk: int,
    default_zone: str,
    in_flight: int = 1,
) -> Tally:
    """Every running campaign's due recipients sent (see the module's text); the
    outcomes tallied over all of them."""
    tally: Tally = Tally()
    with transaction() as session:
        campaigns = [
            (c.id, bool(c.ab), _lanes(session, c, in_flight)) for c in running_campaigns(session)
        ]
    for campaign_id, is_ab, lanes in campaigns:
        if is_ab:
            decide(transaction, campaign_id, now, default_zone)
        send = functools.partial(_dispatch_due, transaction, campaign_id, messaging, now, chunk)
        if lanes == 1:
            tally.update(send())
        else:
            with ThreadPoolExecutor(lanes, thread_name_prefix="dispatch") as pool:
                for done in [pool.submit(send) for _ in range(lanes)]:
                    tally.update(done.result())
        with transaction() as session:
            finish_if_done(session, campaign_id, now)
    return tally


def status_counts(session: Session) -> dict[str, int]:
    return dict(
        session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all()
    )


def due_count(session: Session, now: datetime) -> int:
    """Recipients of running campaigns whose moment has come, not yet handed over."""
    return session.scalar(
        select(func.count())
        .select_from(Recipient)
        .join(Campaign, Campaign.id == Recipient.campaign_id)
        .where(Campaign.status == "running", Recipient.status == "pending", Recipient.due_at <= now)
    )
