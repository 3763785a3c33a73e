"""Campaigns as the API shows them: created, read, listed, changed and deleted while a
draft. The template, segment and channel are checked with their services before
anything is written (read, call, then write)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.audit import record_deletion
from plexus.contract.campaigns import CampaignInput, CampaignPatch
from plexus.errors import NotFound
from plexus.paging import page_of
from plexus.parsing import invalid, load
from plexus.timeutil import rfc3339, utcnow
from services.campaigns.logic import counters
from services.campaigns.logic.states import must_be_editable
from services.campaigns.models import Campaign


def representation(campaign: Campaign, named: dict[str, int]) -> dict:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "channel": campaign.channel,
        "template_id": campaign.template_id,
        "segment_id": campaign.segment_id,
        "category": campaign.category,
        "schedule": {"at": rfc3339(campaign.send_at), "local_time": campaign.local_time},
        "throttle_per_minute": campaign.throttle_per_minute,
        "ab": campaign.ab,
        "status": campaign.status,
        "stats": counters.stats(
            campaign.audience,
            named,
            [variant["name"] for variant in campaign.ab["variants"]] if campaign.ab else [],
        ),
        "winner": campaign.winner,
        "created_at": rfc3339(campaign.created_at),
        "updated_at": rfc3339(campaign.updated_at),
        "started_at": rfc3339(campaign.started_at),
        **campaign.authorship(),
    }


def resource(session: Session, campaign: Campaign) -> dict:
    return representation(campaign, counters.counts(session, [campaign.id])[campaign.id])


def campaign_or_404(session: Session, campaign_id, *, lock: bool = False) -> Campaign:
    campaign = session.get(Campaign, str(campaign_id or "")[:26], with_for_update=lock or None)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def check_references(values: dict, messaging, segments) -> None:
    """The templates exist and are for the channel, the segment exists: else 422 naming
    each field that fails, all at once."""
    errors: dict[str, list[str]] = {}
    channel = values["channel"]
    named = [("template_id", values["template_id"])]
    for index, variant in enumerate((values.get("ab") or {}).get("variants") or []):
        named.append((f"ab.variants.{index}.template_id", variant["template_id"]))
    for field, template_id in named:
        template = messaging.template(template_id)
        if template is None:
            errors[field] = [f"no template {template_id}"]
        elif template.get("channel") != channel:
            errors[field] = [
                f"template {template_id} is for {template.get('channel')}, not {channel}"
            ]
    if not segments.exists(values["segment_id"]):
        errors["segment_id"] = [f"no segment {values['segment_id']}"]
    if errors:
        raise invalid(errors)


def _apply(campaign: Campaign, values: dict) -> None:
    for field in ("name", "channel", "template_id", "segment_id", "category"):
        if field in values:
            setattr(campaign, field, values[field])
    if "throttle_per_minute" in values:
        campaign.throttle_per_minute = values["throttle_per_minute"]
    if "ab" in values:
        campaign.ab = values["ab"]
    if "schedule" in values:
        schedule = values["schedule"] or {}
        campaign.send_at = schedule.get("at")
        campaign.local_time = schedule.get("local_time")


def read_input(data) -> dict:
    if not isinstance(data, dict):
        raise invalid({"_schema": ["must be a JSON object"]})
    return load(CampaignInput(), data)


def create_campaign(session: Session, values: dict, actor: str) -> dict:
    """`values` read and checked (read_input, check_references) before the transaction."""
    campaign = Campaign(status="draft", created_by=actor, updated_by=actor)
    _apply(campaign, values)
    session.add(campaign)
    session.flush()
    return representation(campaign, {})


def read_patch(data) -> dict:
    if not isinstance(data, dict):
        raise invalid({"_schema": ["must be a JSON object"]})
    return load(CampaignPatch(), data)


def stored_values(session: Session, campaign_id: str) -> dict:
    """The fields a patch is checked with, as stored (and 409 unless a draft)."""
    campaign = campaign_or_404(session, campaign_id)
    must_be_editable(campaign.status, "changed")
    return {
        "channel": campaign.channel,
        "template_id": campaign.template_id,
        "segment_id": campaign.segment_id,
        "ab": campaign.ab,
    }


def update_campaign(session: Session, campaign_id: str, values: dict, actor: str) -> dict:
    campaign = campaign_or_404(session, campaign_id, lock=True)
    must_be_editable(campaign.status, "changed")
    _apply(campaign, values)
    campaign.updated_at, campaign.updated_by = utcnow(), actor
    return resource(session, campaign)


def delete_campaign(session: Session, campaign_id: str, actor: str = "system") -> None:
    campaign = campaign_or_404(session, campaign_id, lock=True)
    must_be_editable(campaign.status, "deleted")
    session.delete(campaign)
    record_deletion("campaign", campaign.id, actor)


def read_campaign(session: Session, campaign_id: str) -> dict:
    return resource(session, campaign_or_404(session, campaign_id))


def list_campaigns(session: Session, limit: int, cursor: str | None) -> dict:
    query = select(Campaign)
    if cursor is not None:
        query = query.where(Campaign.id < cursor)
    rows = session.scalars(query.order_by(Campaign.id.desc()).limit(limit + 1)).all()
    named = counters.counts(session, [row.id for row in rows[:limit]])
    return page_of(rows, limit, lambda row: representation(row, named[row.id]), lambda row: row.id)


def new_campaign(transaction, data, messaging, segments, actor: str = "system") -> dict:
    """POST: read, ask the services, then write."""
    values = read_input(data)
    check_references(values, messaging, segments)
    with transaction() as session:
        return create_campaign(session, values, actor)


REFERENCES = ("channel", "template_id", "segment_id", "ab")


def change_campaign(
    transaction, campaign_id: str, data, messaging, segments, actor: str = "system"
) -> dict:
    """PATCH of a draft: what changes a reference is checked with the fields it keeps."""
    patch = read_patch(data)
    with transaction() as session:
        stored = stored_values(session, campaign_id)
    if any(field in patch for field in REFERENCES):
        check_references({**stored, **patch}, messaging, segments)
    with transaction() as session:
        return update_campaign(session, campaign_id, patch, actor)
