"""/v1/contacts/{id}/activity..., /v1/activity/{item_id}, /v1/events, /v1/orders: each
forwarded to the activity service, which validates against plexus.contract.activity.
The export is streamed: pages are asked of activity one after another while the
download is being sent."""

from __future__ import annotations

import logging

from plexus.contract import activity as schemas
from plexus.contract import vocab
from plexus.contract.activity import EXPORT_FORMATS
from plexus.contract.services import ACTIVITY
from plexus.errors import Invalid
from services.gateway.routes.call import Call
from services.gateway.web import downloads
from services.gateway.web.requests import page_args
from services.gateway.web.routing import Answer, Route

log = logging.getLogger(__name__)


READ, WRITE = "activity:read", "activity:write"
EXPORT_COLUMNS = ("id", "occurred_at", "channel", "origin", "type", "message_id", "details")
FILTERS = ("channel", "origin", "type", "period", "since", "until")


def _query(c: Call, names) -> dict:
    return {name: c.args.get(name) for name in names}


def contact_feed(c: Call):
    return c.rpc(
        ACTIVITY, "feed", c.params["contact_id"], **_query(c, FILTERS), **page_args(c.args)
    )


def contact_summary(c: Call):
    return c.rpc(ACTIVITY, "summary", c.params["contact_id"], period=c.args.get("period"))


def logged(chunks, contact_id: str):
    # The status line is gone by the time a later page fails: the download ends short,
    # and the log says why.
    try:
        yield from chunks
    except Exception:
        log.exception("export of contact %s broke off", contact_id)
        raise


def export(c: Call):
    format = c.args.get("format") or "csv"
    if format not in EXPORT_FORMATS:
        raise Invalid("format must be csv or ndjson", {"format": ["must be csv or ndjson"]})
    contact_id = c.params["contact_id"]
    # The first page is asked before answering, so an unknown contact is still a 404.
    first = c.rpc(ACTIVITY, "export_page", contact_id)
    body = downloads.chunks(
        format,
        EXPORT_COLUMNS,
        downloads.pages(
            first, lambda cursor: c.rpc(ACTIVITY, "export_page", contact_id, cursor=cursor)
        ),
    )
    return Answer(
        200, logged(body, contact_id), downloads.attachment(f"activity-{contact_id}", format)
    )


def get_item(c: Call):
    return c.rpc(ACTIVITY, "get_item", c.params["item_id"])


def record_event(c: Call):
    return Answer(202, c.rpc(ACTIVITY, "record_event", c.body, c.actor))


def record_events(c: Call):
    unknown = sorted(set(c.body) - {"events"})
    if unknown:
        raise Invalid("unknown fields in the body", {name: ["unknown field"] for name in unknown})
    return Answer(202, c.rpc(ACTIVITY, "record_events", c.body.get("events"), c.actor))


def record_order(c: Call):
    stored = c.rpc(ACTIVITY, "record_order", c.body, c.actor)
    return Answer(201 if stored["created"] else 200, stored["item"])


FEED_QUERY = {
    "channel": "comma-separated: " + ", ".join(vocab.ACTIVITY_CHANNELS),
    "origin": "comma-separated: transaction, campaign, ab_test, workflow",
    "type": "comma-separated activity types of the chosen channels",
    "period": "7d, 14d or 30d back from now (or since/until)",
    "since": "RFC 3339, inclusive",
    "until": "RFC 3339, exclusive",
    "limit": "page size, 1 to 200 (default 50)",
    "cursor": "next_cursor of the last page",
}
ONE = "/v1/contacts/<contact_id>/activity"
T = "activity"

ACTIVITY_ROUTES = (
    Route(
        "GET",
        ONE,
        contact_feed,
        "The contact's activity, newest first; filters combine",
        READ,
        T,
        response=schemas.ActivityItem,
        many=True,
        query=FEED_QUERY,
    ),
    Route(
        "GET",
        ONE + "/summary",
        contact_summary,
        "Counts of the contact's activity by channel and type",
        READ,
        T,
        response=schemas.ActivitySummary,
        query={"period": "7d, 14d or 30d (default 30d)"},
    ),
    Route(
        "GET",
        ONE + "/export",
        export,
        "The contact's whole feed as a streamed CSV or NDJSON download",
        READ,
        T,
        query={"format": "csv (default) or ndjson"},
    ),
    Route(
        "GET",
        "/v1/activity/<item_id>",
        get_item,
        "One item with its full detail (a message's status history)",
        READ,
        T,
        response=schemas.ActivityItemDetail,
    ),
    Route(
        "POST",
        "/v1/events",
        record_event,
        "Record a custom event or conversion",
        WRITE,
        T,
        body=schemas.EventInput,
        response=schemas.ActivityItem,
        status=202,
    ),
    Route(
        "POST",
        "/v1/events/batch",
        record_events,
        "Record up to 1,000 events, each accepted or refused on its own",
        WRITE,
        T,
        body=schemas.EventBatch,
        response=schemas.EventBatchResult,
        status=202,
        body_limit="max_batch_body_bytes",
    ),
    Route(
        "POST",
        "/v1/orders",
        record_order,
        "Record an order (201), or update it when its external_id was posted before (200)",
        WRITE,
        T,
        body=schemas.OrderInput,
        response=schemas.ActivityItem,
        status=201,
    ),
)
