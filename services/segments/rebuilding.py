"""`plexus segments rebuild` wired up: the segments database from the config, and the
pages asked of contacts and activity through a standalone nameko client, each call with
its deadline. The CLI does the work itself (not an RPC on the segments service): a
rebuild of a million contacts takes minutes, far past any RPC deadline, and the service
is meant to be stopped meanwhile (services.segments.logic.rebuild)."""

from __future__ import annotations

from collections.abc import Callable

from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy.orm import sessionmaker

from plexus.db import service_engine
from plexus.timeutil import utcnow
from services.segments.logic.compiler import Clock
from services.segments.logic.rebuild import Summary, pages, rebuild

CONTACTS_PAGE = 200   # find_contacts' largest page
COUNTS_PAGE = 500     # contacts a page of activity's daily_counts


def rebuild_segments(config: dict, timeout: float, say: Callable[[str], None]) -> Summary:
    engine = service_engine(config, "segments")
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        with ClusterRpcClient(uri=config.get("AMQP_URI"), timeout=timeout) as cluster:
            contacts = pages(lambda cursor: cluster.contacts.find_contacts(
                limit=CONTACTS_PAGE, cursor=cursor))
            counts = pages(lambda cursor: cluster.activity.daily_counts(
                cursor=cursor, size=COUNTS_PAGE))
            return rebuild(sessions, contacts, counts, Clock(utcnow()), say)
    finally:
        engine.dispose()
