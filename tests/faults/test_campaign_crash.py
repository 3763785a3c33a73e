"""kill -9 the campaigns process while it hands a campaign to messaging, start it again:
every member still gets exactly one message (one provider file each), none twice, none
lost. The dispatcher's crash between messaging's commit and its own is absorbed by the
item keys (the same key answers the same message), a page of the audience written twice
by its row keys. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from plexus.config import PROJECT_ROOT
from plexus.suite import SERVICES
from tests.e2e.conftest import start_suite, stop_suite, suite_env
from tests.polling import wait_for

MEMBERS = int(os.environ.get("PLEXUS_FAULT_MEMBERS", "600"))
CHUNK = "10"  # small chunks: many calls to messaging, so the kill lands mid-send


def start_campaigns(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nameko",
                "run",
                "--config",
                str(PROJECT_ROOT / "config.yaml"),
                SERVICES["campaigns"],
            ],
            env={**env, "PLEXUS_SERVICE": "campaigns"},
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(params=["sqlite", "postgres"])
def suite(request, amqp_uri, tmp_path):
    """Every service but campaigns under `plexus run`; campaigns the test runs itself."""
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    env = suite_env(amqp_uri, tmp_path, database_url)
    env["PLEXUS_CAMPAIGNS_CHUNK"] = CHUNK
    env["PLEXUS_CAMPAIGNS_METRICS_PORT"] = "0"
    others = [arg for name in SERVICES if name != "campaigns" for arg in ("--only", name)]
    running = start_suite(env, tmp_path / "suite.log", *others, wait_for="/health")
    migrated = running.plexus("migrate", "campaigns")  # --only migrates the others alone
    assert migrated.returncode == 0, migrated.stderr
    yield running
    stop_suite(running)


def post(suite, path: str, body: dict) -> dict:
    answer = suite.http().post(suite.url + path, json=body, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def get(suite, path: str, **query) -> dict:
    answer = suite.http().get(suite.url + path, params=query, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def files_by_contact(suite) -> dict[str, int]:
    root = Path(suite.env["PLEXUS_OUTBOX_DIR"]) / "email"
    return {path.name: len(list(path.glob("*.json"))) for path in root.glob("*")}


def test_kill_9_mid_send_still_one_message_per_member(suite, tmp_path):
    log = tmp_path / "campaigns.log"
    first = start_campaigns(suite.env, log)
    wait_for(
        lambda: suite.http().get(suite.url + "/v1/campaigns", timeout=30).status_code == 200,
        60,
        "campaigns to answer",
    )
    tag = f"crash-{uuid.uuid4().hex[:8]}"
    segment = post(
        suite,
        "/v1/segments",
        {"name": tag, "rule": {"field": "last_name", "op": "eq", "value": tag}},
    )
    contacts = [{"email": f"m{n}-{tag}@example.com", "last_name": tag} for n in range(MEMBERS)]
    made = post(suite, "/v1/contacts/batch", {"contacts": contacts})["results"]
    ids = sorted(result["id"] for result in made)
    wait_for(
        lambda: get(suite, f"/v1/segments/{segment['id']}")["member_count"] >= MEMBERS,
        120,
        "the segment's members",
    )
    template = post(
        suite,
        "/v1/templates",
        {"name": tag, "channel": "email", "subject": "Hello", "body": "Hello"},
    )
    campaign = post(
        suite,
        "/v1/campaigns",
        {
            "name": tag,
            "channel": "email",
            "template_id": template["id"],
            "segment_id": segment["id"],
        },
    )
    one = f"/v1/campaigns/{campaign['id']}"
    post(suite, one + "/start", {})
    try:
        at_kill = wait_for(
            lambda: (queued := get(suite, one)["stats"]["queued"]) > MEMBERS // 5 and queued,
            120,
            "a fifth of the members queued",
            every=0.02,
        )
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert at_kill < MEMBERS, "every member was queued before the kill: nothing was tested"
    print(f"killed with {at_kill} of {MEMBERS} queued")

    second = start_campaigns(suite.env, log)
    try:
        done = wait_for(
            lambda: (found := get(suite, one))["status"] == "finished" and found,
            300,
            "the campaign to finish",
        )
        assert done["stats"]["queued"] == MEMBERS
        assert done["stats"]["audience"] == MEMBERS
        wait_for(lambda: len(files_by_contact(suite)) >= MEMBERS, 300, "every provider call")
        counts = files_by_contact(suite)
        assert sorted(counts) == ids
        assert set(counts.values()) == {1}
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
