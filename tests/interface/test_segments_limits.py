"""The segments service in a real nameko container: a preview or a new rule whose
evaluation runs past SEGMENTS.query_timeout_seconds crosses RPC as Invalid naming
`rule`, soon, and the service answers at once afterwards (no worker held, and on SQLite
no process held either: the query runs inside C, where only the progress handler
reaches it)."""

import time

import nameko
import pytest
from nameko.standalone.rpc import ClusterRpcClient

from plexus.config import database_url
from plexus.db import make_engine
from plexus.errors import Invalid
from plexus.migrations import migrate_service
from services.segments.entrypoints import SegmentsService
from services.segments.models import Profile, Variable

# 33 x (a scan of every email, a scan of every variable): seconds over 20,000 contacts.
COSTLY = {
    "any": [
        {
            "all": [
                {"field": "email", "op": "contains", "value": f"zz{n}"},
                {"field": "variables.plan", "op": "contains", "value": f"x{n}"},
            ]
        }
        for n in range(33)
    ]
}


@pytest.fixture
def segments(service_config, container_factory):
    nameko.config["SEGMENTS"] = {"query_timeout_seconds": 0.1}  # undone with the patch
    migrate_service(service_config, "segments")
    engine = make_engine(database_url(service_config, "segments")[0])
    with engine.begin() as connection:
        connection.execute(
            Profile.__table__.insert(),
            [{"contact_id": f"c{n:06d}", "email": f"person{n}@example.com"} for n in range(20_000)],
        )
        connection.execute(
            Variable.__table__.insert(),
            [
                {"contact_id": f"c{n:06d}", "name": "plan", "text_value": f"plan{n % 97}"}
                for n in range(20_000)
            ],
        )
    engine.dispose()
    container_factory(SegmentsService).start()
    with ClusterRpcClient(timeout=10) as client:
        yield client.segments


def test_a_costly_preview_is_stopped_and_the_service_answers_at_once(segments):
    for call in (
        lambda: segments.preview({"rule": COSTLY}),
        lambda: segments.create_segment({"name": "slow", "rule": COSTLY}, "test"),
    ):
        started = time.monotonic()
        with pytest.raises(Invalid) as stopped:
            call()
        assert time.monotonic() - started < 3.0
        assert list(stopped.value.errors) == ["rule"]
        started = time.monotonic()
        assert segments.ping() == "pong"
        assert segments.list_segments()["data"] == []  # nothing of the refused rule kept
        assert time.monotonic() - started < 1.0
