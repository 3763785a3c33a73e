"""kill -9 the campaigns process while a workflow's runs wait, and again while their
emails go out, starting it again each time: every contact still gets exactly one email
(one provider file each), no run lost. The wait is a stored due time, not a sleeping
thread; a send repeated after the crash is absorbed by its key
("workflow:<run_id>:<step>"). On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

from tests.faults.test_campaign_crash import (
    answering_campaigns,
    files_by_contact,
    get,
    post,
    start_campaigns,
)
from tests.faults.test_campaign_crash import suite as suite  # the fixture, campaigns left out
from tests.polling import wait_for

CONTACTS = int(os.environ.get("PLEXUS_FAULT_MEMBERS", "300"))


def waiting(suite, one: str) -> int:
    """How many of the workflow's runs wait (the first step taken), over every page."""
    count, cursor = 0, None
    while True:
        page = get(suite, one + "/runs", limit=200, **({"cursor": cursor} if cursor else {}))
        count += sum(1 for run in page["data"] if run["status"] == "waiting")
        cursor = page["next_cursor"]
        if not cursor:
            return count


def kill(process) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_9_during_the_wait_and_the_sends_loses_and_repeats_nothing(suite, tmp_path):
    suite.env["PLEXUS_CAMPAIGNS_RUN_CHUNK"] = "10"  # many transactions: the kill lands mid-pass
    log = tmp_path / "campaigns.log"
    first = answering_campaigns(suite, log, "/v1/workflows")
    tag = f"wf-crash-{uuid.uuid4().hex[:8]}"
    template = post(
        suite, "/v1/templates", {"name": tag, "channel": "email", "subject": "Hi", "body": "Hi"}
    )
    steps = [
        {"wait": {"hours": 1}},
        {"send": {"channel": "email", "template_id": template["id"]}},
    ]
    flow = post(
        suite, "/v1/workflows", {"name": tag, "trigger": {"contact_added": True}, "steps": steps}
    )
    one = f"/v1/workflows/{flow['id']}"
    post(suite, one + "/activate", {})
    contacts = [{"email": f"m{n}-{tag}@example.com", "last_name": tag} for n in range(CONTACTS)]
    made = post(suite, "/v1/contacts/batch", {"contacts": contacts})["results"]
    ids = sorted(result["id"] for result in made)
    wait_for(lambda: waiting(suite, one) == CONTACTS, 120, "every run waiting")
    kill(first)  # during the wait

    second = start_campaigns(suite.env, log)
    clock = Path(suite.env["PLEXUS_CLOCK_FILE"])
    clock.write_text(str(3600 + 60))
    try:
        at_kill = wait_for(
            lambda: (done := get(suite, one)["stats"]["completed"]) > CONTACTS // 5 and done,
            120,
            "a fifth of the emails queued",
            every=0.02,
        )
    finally:
        kill(second)  # mid-send
    assert at_kill < CONTACTS, "every email was queued before the kill: nothing was tested"
    print(f"killed with {at_kill} of {CONTACTS} runs completed")

    third = start_campaigns(suite.env, log)
    try:
        wait_for(
            lambda: get(suite, one)["stats"]["completed"] == CONTACTS, 300, "every run completed"
        )
        wait_for(lambda: len(files_by_contact(suite)) >= CONTACTS, 300, "every provider call")
        counts = files_by_contact(suite)
        assert sorted(counts) == ids
        assert set(counts.values()) == {1}
        assert get(suite, one)["stats"]["entered"] == CONTACTS
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=30)
