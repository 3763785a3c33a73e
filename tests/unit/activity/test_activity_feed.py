"""Reading the feed: order, filters, windows, cursor paging, summary, one item, export."""

from datetime import UTC, datetime, timedelta

import pytest

from plexus.errors import Invalid, NotFound, Unavailable
from plexus.parsing import load
from services.activity.logic import export, item_detail
from services.activity.logic.feed import feed
from services.activity.logic.recording import record
from services.activity.logic.summary import summary
from services.activity.logic.window import window
from services.activity.schemas import FeedArgs

CONTACT = "01jdx00000000000000000000a"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


@pytest.fixture
def stored(run):
    """Items of CONTACT (and one of another contact), by a short name."""
    rows = {
        "old_email_open": dict(
            channel="email", type="open", origin="campaign", occurred_at=at(24 * 20)
        ),
        "email_sent": dict(
            channel="email", type="sent", origin="campaign", occurred_at=at(24 * 10)
        ),
        "sms_click": dict(
            channel="sms", type="click", origin="transaction", occurred_at=at(24 * 3)
        ),
        "email_click": dict(
            channel="email", type="click", origin="workflow", occurred_at=at(24 * 2)
        ),
        "added": dict(channel="contact", type="added", occurred_at=at(5)),
        "order": dict(channel="other", type="order", occurred_at=at(1)),
        "same_time": dict(channel="other", type="custom_event", occurred_at=at(1)),
    }
    ids = {name: run(record, contact_id=CONTACT, **fields).id for name, fields in rows.items()}
    run(
        record,
        contact_id="01jdx00000000000000000000b",
        channel="email",
        type="open",
        occurred_at=at(1),
    )
    return ids


def names(stored, page):
    by_id = {item_id: name for name, item_id in stored.items()}
    return [by_id[item["id"]] for item in page["data"]]


def args(**query):
    """The feed's arguments as the service reads the query string."""
    values = load(FeedArgs(), query)
    since, until = window(NOW, values.pop("period"), values.pop("since"), values.pop("until"))
    return {**values, "since": since, "until": until}


def test_newest_first_with_ties_broken_by_id(run, stored):
    assert names(stored, run(feed, CONTACT)) == [
        "same_time",
        "order",
        "added",
        "email_click",
        "sms_click",
        "email_sent",
        "old_email_open",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "email"}, ["email_click", "email_sent", "old_email_open"]),
        ({"channel": "email,sms"}, ["email_click", "sms_click", "email_sent", "old_email_open"]),
        ({"type": "click"}, ["email_click", "sms_click"]),
        ({"origin": "campaign,workflow"}, ["email_click", "email_sent", "old_email_open"]),
        ({"channel": "email", "type": "click,open"}, ["email_click", "old_email_open"]),
        ({"channel": "email", "origin": "campaign", "period": "14d"}, ["email_sent"]),
        ({"period": "7d"}, ["same_time", "order", "added", "email_click", "sms_click"]),
        ({"period": "30d", "type": "click", "origin": "transaction"}, ["sms_click"]),
        (
            {"since": "2026-11-13T12:00:00Z", "until": "2026-11-21T12:00:00Z"},
            ["sms_click", "email_sent"],
        ),
        ({"channel": "other", "since": "2026-11-23T11:00:00Z"}, ["same_time", "order"]),
        ({"channel": "viber"}, []),
    ],
)
def test_filters_combine(run, stored, query, expected):
    assert names(stored, run(feed, CONTACT, **args(**query))) == expected


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"channel": "fax"}, "channel"),
        ({"origin": "email"}, "origin"),
        ({"type": "opened"}, "type"),
        ({"period": "3d"}, "period"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-11-23"}, "until"),
        ({"period": "7d", "since": "2026-11-13T12:00:00Z"}, "period"),
        ({"since": "2026-11-13T12:00:00Z", "until": "2026-11-13T12:00:00Z"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ],
)
def test_bad_parameters_are_refused_by_name(query, parameter):
    with pytest.raises(Invalid) as caught:
        args(**query)
    assert list(caught.value.errors) == [parameter]


def test_a_cursor_not_given_by_the_api_is_refused(run, stored):
    with pytest.raises(Invalid) as caught:
        run(feed, CONTACT, cursor="bm90IGEgY3Vyc29y")
    assert list(caught.value.errors) == ["cursor"]


def test_pages_stay_right_while_new_items_arrive(run, stored):
    first = run(feed, CONTACT, limit=3)
    assert names(stored, first) == ["same_time", "order", "added"]
    stored["newer"] = run(
        record, contact_id=CONTACT, channel="sms", type="sent", occurred_at=NOW
    ).id
    second = run(feed, CONTACT, limit=3, cursor=first["next_cursor"])
    assert names(stored, second) == ["email_click", "sms_click", "email_sent"]
    third = run(feed, CONTACT, limit=3, cursor=second["next_cursor"])
    assert names(stored, third) == ["old_email_open"] and third["next_cursor"] is None
    assert names(stored, run(feed, CONTACT, limit=1))[0] == "newer"


def test_a_filtered_feed_pages_too(run, stored):
    first = run(feed, CONTACT, channel=("email",), limit=2)
    second = run(feed, CONTACT, channel=("email",), limit=2, cursor=first["next_cursor"])
    assert names(stored, first) + names(stored, second) == [
        "email_click",
        "email_sent",
        "old_email_open",
    ]


def test_summary_counts_by_channel_and_type(run, stored):
    counted = run(summary, CONTACT, period="14d", since=NOW - timedelta(days=14), until=NOW)
    assert counted["total"] == 6
    assert counted["channels"] == {
        "contact": {"total": 1, "types": {"added": 1}},
        "email": {"total": 2, "types": {"click": 1, "sent": 1}},
        "other": {"total": 2, "types": {"custom_event": 1, "order": 1}},
        "sms": {"total": 1, "types": {"click": 1}},
    }


def test_export_pages_through_the_whole_feed(run, stored):
    seen, cursor = [], None
    while True:
        page = run(export.export_page, CONTACT, size=3, cursor=cursor)
        seen += names(stored, page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names(stored, run(feed, CONTACT))


def test_an_item_with_its_message_from_messaging(run):
    item = run(
        record, contact_id=CONTACT, channel="email", type="open", message_id="m-1", occurred_at=NOW
    )
    message = {
        "id": "m-1",
        "history": [{"status": "sent", "at": "2026-11-23T11:00:00Z", "details": {}}],
    }
    detail = run(item_detail.get_item, item.id, lambda message_id: message)
    assert detail["message"] == message and detail["message_error"] is None
    assert detail["id"] == item.id and detail["type"] == "open"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (NotFound("no such message"), "messaging has no such message"),
        (
            Unavailable("the messaging service is not running"),
            "the messaging service is not running",
        ),
    ],
)
def test_an_item_is_given_even_when_messaging_cannot_say(run, error, said):
    item = run(
        record, contact_id=CONTACT, channel="sms", type="sent", message_id="m-2", occurred_at=NOW
    )

    def failing(message_id):
        raise error

    detail = run(item_detail.get_item, item.id, failing)
    assert detail["message"] is None and detail["message_error"] == said


def test_an_item_without_a_message_and_an_unknown_item(run):
    item = run(record, contact_id=CONTACT, channel="contact", type="added", occurred_at=NOW)
    assert "message" not in run(item_detail.get_item, item.id, None)
    with pytest.raises(NotFound):
        run(item_detail.get_item, "01jdx0000000000000000000zz", None)
