"""The campaigns logic on a database made by its own migrations, on SQLite and on
PostgreSQL, each call in a transaction of its own as the service runs it; fakes of the
services it calls, keeping messaging's promise (the same key answers the same message)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest

from plexus.db import transaction
from plexus.errors import NotFound, Unavailable
from plexus.ids import new_id
from tests.unit.database import migrated_sessions, runner

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class FakeMessaging:
    def __init__(self):
        self.templates = {"t-email": "email", "t-email-b": "email", "t-sms": "sms"}
        self.refusals: dict[str, str] = {}
        self.queued: dict[str, dict] = {}  # key -> answer
        self.items: list[dict] = []  # every message actually queued
        self.calls = 0
        self.crash_after_commit = False

    def template(self, template_id):
        channel = self.templates.get(template_id)
        return {"id": template_id, "channel": channel} if channel else None

    def queue_batch(self, items, actor):
        self.calls += 1
        assert len(items) <= 500
        answers = []
        for item in items:
            if item["key"] not in self.queued:
                reason = self.refusals.get(item["contact_id"])
                answer = {
                    "key": item["key"],
                    "contact_id": item["contact_id"],
                    "message_id": None if reason else new_id(),
                    "status": "refused" if reason else "queued",
                    "reason": reason,
                    "held_until": None,
                }
                self.queued[item["key"]] = answer
                if not reason:
                    self.items.append(item)
            answers.append(self.queued[item["key"]])
        if self.crash_after_commit:
            self.crash_after_commit = False
            raise Unavailable("the caller died after messaging committed")
        return answers


class FakeSegments:
    def __init__(self, page_size=3):
        self.members: dict[str, list[str]] = {}
        self.page_size = page_size

    def exists(self, segment_id):
        return segment_id in self.members

    def members_page(self, segment_id, cursor):
        if segment_id not in self.members:
            raise NotFound(f"no segment {segment_id}")
        ids = sorted(self.members[segment_id])
        after = [i for i in ids if cursor is None or i > cursor]
        page = after[: self.page_size]
        more = len(after) > self.page_size
        return {"data": page, "next_cursor": page[-1] if more else None}


class FakeContacts:
    def __init__(self):
        self.zones: dict[str, str] = {}

    def timezones(self, contact_ids):
        return {contact_id: self.zones.get(contact_id) for contact_id in contact_ids}


@pytest.fixture
def sessions(database_url):
    yield from migrated_sessions("campaigns", database_url)


@pytest.fixture
def run(sessions):
    return runner(sessions)


@pytest.fixture
def tx(sessions):
    return functools.partial(transaction, sessions)


@pytest.fixture
def messaging():
    return FakeMessaging()


@pytest.fixture
def segments():
    return FakeSegments()


@pytest.fixture
def contacts():
    return FakeContacts()
