"""`plexus segments rebuild` wired up: the segments database from the config, and the
pages asked of contacts and activity through the ports, over one RPC client, each call
with its deadline. The CLI does the work itself (not an RPC on the segments service): a
rebuild of a million contacts takes minutes, far past any RPC deadline, and the service
is meant to be stopped meanwhile (services.segments.logic.rebuild)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from plexus.config import broker_uri
from plexus.db import service_engine
from plexus.rpc import RpcCaller, RpcClient
from plexus.timeutil import utcnow
from services.segments.logic.compiler import Clock
from services.segments.logic.rebuild import Summary, pages, rebuild
from services.segments.ports import ActivityPort, ContactsPort


def rebuild_segments(config: dict, timeout: float, say: Callable[[str], None]) -> Summary:
    engine = service_engine(config, "segments")
    client = RpcClient(broker_uri(config))
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        call = RpcCaller(client, timeout)
        contacts, activity = ContactsPort(call), ActivityPort(call)
        return rebuild(
            sessions,
            pages(contacts.contacts_page),
            pages(activity.daily_counts_page),
            Clock(utcnow()),
            say,
        )
    finally:
        client.close()
        engine.dispose()
