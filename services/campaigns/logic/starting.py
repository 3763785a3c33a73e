"""Starting a campaign and reading its audience.

Start (or the timer, at schedule.at) makes it `running`; the audience is then read from
the segment a page at a time by the loader (a timer), each page written as recipients
rows in a short transaction of its own, with the members' cursor kept on the campaign:
a restart goes on from the last page written, and a page written twice is skipped row by
row (the rows' key is campaign and contact). An A/B campaign's members are `held` until
the whole audience is read; then the test group is dealt to the variants
(logic/split.py), also a chunk a transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plexus.bulk import insert_new
from plexus.errors import NotFound
from services.campaigns.logic import split
from services.campaigns.logic.definitions import campaign_or_404, resource
from services.campaigns.logic.states import next_status
from services.campaigns.logic.timing import aware, due_at
from services.campaigns.models import Campaign, Recipient

log = logging.getLogger(__name__)


def act(
    session: Session, campaign_id: str, action: str, now: datetime, actor: str = "system"
) -> dict:
    """start / pause / resume / cancel, as the state machine allows (409 otherwise)."""
    campaign = campaign_or_404(session, campaign_id, lock=True)
    status = next_status(campaign.status, action)
    if action == "start":
        send_at = aware(campaign.send_at)
        base = send_at if send_at is not None and send_at > now else now
        campaign.base_at, campaign.started_at = base, now
        campaign.loading, campaign.audience_cursor = True, None
        if campaign.ab:
            campaign.decide_at = base + timedelta(hours=float(campaign.ab["wait_hours"]))
        if base > now:
            status = "scheduled"
    if action == "resume" and (aware(campaign.base_at) or now) > now:
        status = "scheduled"  # paused before its moment: it waits for it again
    campaign.status = status
    campaign.updated_at, campaign.updated_by = now, actor
    log.info("campaign %s: %s by %s, now %s", campaign_id, action, actor, status)
    return resource(session, campaign)


def start_scheduled(session: Session, now: datetime) -> int:
    """Scheduled campaigns whose moment came: running (the loader reads them next)."""
    done = session.execute(
        update(Campaign)
        .where(Campaign.status == "scheduled", Campaign.base_at <= now)
        .values(status="running", updated_at=now)
    )
    return done.rowcount or 0


def campaigns_loading(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Campaign.id)
            .where(Campaign.status == "running", Campaign.loading.is_(True))
            .order_by(Campaign.id)
        )
    )


def _rows(campaign: Campaign, contact_ids: list[str], zones: dict, default_zone: str):
    base = aware(campaign.base_at)
    rows = []
    for contact_id in contact_ids:
        row = {
            "campaign_id": campaign.id,
            "contact_id": contact_id,
            "rank": split.rank(campaign.id, contact_id),
            "timezone": zones.get(contact_id),
            "variant": None,
            "status": "held" if campaign.ab else "pending",
            "due_at": None,
        }
        if not campaign.ab:
            row["due_at"] = due_at(base, campaign.local_time, row["timezone"], default_zone)
        rows.append(row)
    return rows


def load_page(transaction, campaign_id: str, segments, contacts, default_zone: str) -> bool:
    """One page of the audience read and written; False when there is no more to do."""
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != "running" or not campaign.loading:
            return False
        cursor, segment_id = campaign.audience_cursor, campaign.segment_id
        local_time, done_reading = campaign.local_time, cursor == DONE
    if done_reading:
        return _finish_loading(transaction, campaign_id, default_zone)
    try:
        page = segments.members_page(segment_id, cursor)
    except NotFound:  # the segment was deleted: the audience is what was read
        page = {"data": [], "next_cursor": None}
    contact_ids = [str(member) for member in page["data"]]
    zones = contacts.timezones(contact_ids) if local_time and contact_ids else {}
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or campaign.audience_cursor != cursor or not campaign.loading:
            return True  # another process wrote this page: look again
        # With RETURNING, SQLAlchemy sends the page as one multi-row INSERT (without,
        # one statement a row on psycopg2: three times the time).
        rows = _rows(campaign, contact_ids, zones, default_zone)
        insert_new(session, Recipient, rows, returning="contact_id")
        campaign.audience_cursor = page["next_cursor"] or DONE
    return True


# The cursor once the last page is written (an A/B split may still be under way).
DONE = "-"


def _finish_loading(transaction, campaign_id: str, default_zone: str) -> bool:
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or not campaign.loading:
            return False
        audience = session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id))
        if not campaign.ab:
            campaign.audience, campaign.loading = audience, False
            return False
        test = split.test_group_size(audience, float(campaign.ab["test_fraction"]))
        group = list(
            session.scalars(
                select(Recipient.contact_id)
                .where(Recipient.campaign_id == campaign_id)
                .order_by(Recipient.rank, Recipient.contact_id)
                .limit(test)
            )
        )
        variants = [variant["name"] for variant in campaign.ab["variants"]]
        dealt = split.deal(group, variants)
        base, local_time = aware(campaign.base_at), campaign.local_time
    for start in range(0, len(group), CHUNK):
        chunk = group[start : start + CHUNK]
        with transaction() as session:
            release(session, campaign_id, chunk, dealt, base, local_time, default_zone)
    with transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is not None and campaign.loading:
            campaign.audience, campaign.loading = audience, False
    return False


CHUNK = 500


def release(
    session: Session,
    campaign_id: str,
    contact_ids: list[str],
    variants: dict[str, str],
    base: datetime,
    local_time: str | None,
    default_zone: str,
) -> int:
    """Held members made pending with their variant and moment."""
    held = session.execute(
        select(Recipient.contact_id, Recipient.timezone).where(
            Recipient.campaign_id == campaign_id,
            Recipient.status == "held",
            Recipient.contact_id.in_(contact_ids),
        )
    ).all()
    # One UPDATE for the members sharing a variant and a moment (one, or one a zone).
    groups: dict[tuple[str, datetime], list[str]] = {}
    for contact_id, zone_name in held:
        moment = due_at(base, local_time, zone_name, default_zone)
        groups.setdefault((variants[contact_id], moment), []).append(contact_id)
    for (variant, moment), members in groups.items():
        session.execute(
            update(Recipient)
            .where(
                Recipient.campaign_id == campaign_id,
                Recipient.contact_id.in_(members),
                Recipient.status == "held",
            )
            .values(status="pending", variant=variant, due_at=moment)
        )
    return len(held)


def load_audiences(transaction, segments, contacts, default_zone: str) -> None:
    """Every running campaign's audience read to its end, a page a transaction."""
    with transaction() as session:
        campaign_ids = campaigns_loading(session)
    for campaign_id in campaign_ids:
        while load_page(transaction, campaign_id, segments, contacts, default_zone):
            pass
