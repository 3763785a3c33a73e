"""The export of a contact with 100,000 items through the gateway, streamed: memory stays
flat. The activity service, the gateway and the client all run in this process, and its
peak resident memory (ru_maxrss) does not rise when 100,000 items are exported after
20,000 were: one page (5,000 items) is in flight on each side, never the whole feed.
(tracemalloc says the same, at five times the run time.)"""

import csv
import io
import json
import resource
import secrets

import pytest
import requests
from nameko.web.server import WebServer
from sqlalchemy import text

from plexus.db import make_engine
from plexus.migrations import migrate_service
from services.activity.entrypoints import ActivityService
from services.gateway.entrypoints import GatewayService

ITEMS = 100_000
CONTACT = "01jdx00000000000000000000a"
SMALL_ITEMS = 20_000
SMALL_CONTACT = "01jdx00000000000000000000b"
KEY = "plx_" + secrets.token_urlsafe(32)


def load_items(config, contact_id: str, count: int) -> None:
    """Rows made by SQLite itself, so that loading them leaves this process small."""
    engine = make_engine(f"sqlite:///{config['DATA_DIR']}/activity.db")
    with engine.begin() as connection:
        connection.execute(
            text("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
            INSERT INTO activity_items (id, contact_id, occurred_at, channel, origin, type,
                                        message_id, details, recorded_at)
            SELECT printf('%s%010d', substr(:contact, 11), i), :contact,
                   '2026-11-20 10:00:00.000000', 'email', 'campaign', 'open', 'm-' || i,
                   json_object('campaign', 'black-friday', 'n', i),
                   '2026-11-20 10:00:00.000000'
            FROM n"""),
            {"count": count, "contact": contact_id},
        )
    engine.dispose()


@pytest.fixture
def gateway_url(service_config, container_factory):
    service_config["GATEWAY"]["bootstrap_key"] = KEY
    for name in ("activity", "gateway"):
        migrate_service(service_config, name)
    load_items(service_config, CONTACT, ITEMS)
    load_items(service_config, SMALL_CONTACT, SMALL_ITEMS)
    container_factory(ActivityService).start()
    gateway = container_factory(GatewayService)
    gateway.start()
    server = next(e for e in gateway.subextensions if isinstance(e, WebServer))
    return f"http://127.0.0.1:{server._sock.getsockname()[1]}"


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def download(url: str, format: str, contact_id: str = CONTACT) -> tuple[int, bytes, dict]:
    """(bytes received, the first chunk, headers)."""
    received, first = 0, b""
    with requests.get(
        f"{url}/v1/contacts/{contact_id}/activity/export",
        params={"format": format},
        stream=True,
        timeout=120,
        headers={"Authorization": f"Bearer {KEY}"},
    ) as answer:
        assert answer.status_code == 200, answer.text
        for chunk in answer.iter_content(64 * 1024):
            received += len(chunk)
            first = first or chunk
    return received, first, dict(answer.headers)


def test_export_of_100000_items_streams_with_flat_memory(gateway_url):
    before = peak_rss()
    small, _, _ = download(gateway_url, "ndjson", SMALL_CONTACT)
    after_small = peak_rss()
    received, first, headers = download(gateway_url, "ndjson")
    after_large = peak_rss()
    mib = 2**20
    print(
        f"\npeak RSS {before / mib:.0f} MiB; exporting {SMALL_ITEMS:,} items "
        f"({small / mib:.1f} MiB) raised it by {(after_small - before) / mib:.1f} MiB, "
        f"then {ITEMS:,} items ({received / mib:.1f} MiB) by "
        f"{(after_large - after_small) / mib:.1f} MiB"
    )
    assert headers["Content-Type"] == "application/x-ndjson"
    assert headers["Content-Disposition"] == f'attachment; filename="activity-{CONTACT}.ndjson"'
    assert "Content-Length" not in headers  # sent as it is made
    assert json.loads(first.split(b"\n")[0])["contact_id"] == CONTACT
    assert received > 4.5 * small
    # Five times the items, no more memory: a page at a time, never the whole feed.
    assert after_large - after_small < 8 * mib

    # The same data set (loading it is the slow part) serves the CSV and format checks.
    received, first, headers = download(gateway_url, "csv", SMALL_CONTACT)
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    header, row = list(csv.reader(io.StringIO(first.decode())))[:2]
    assert header == ["id", "occurred_at", "channel", "origin", "type", "message_id", "details"]
    assert row[2:5] == ["email", "campaign", "open"]
    assert json.loads(row[6])["campaign"] == "black-friday"
    assert received > SMALL_ITEMS * 100

    answer = requests.get(
        f"{gateway_url}/v1/contacts/{CONTACT}/activity/export",
        params={"format": "xml"},
        timeout=30,
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert answer.status_code == 422 and "format" in answer.json()["errors"]
