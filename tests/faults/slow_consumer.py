"""A service for the heartbeat test, run with `nameko run` like any other: its handler
holds the whole process (no eventlet yield) for `block` seconds, as a long computation
or a blocking C call does, then leaves a line per run in PLEXUS_PROBE_RUNS, the effect
the test counts. It consumes through plexus.consumer like every service."""

import os

from eventlet import patcher

from plexus import consumer
from plexus.event_consumer import on_events

# The probe subscribes to contact_created as a service would, in its own process only.
consumer.SUBSCRIPTIONS = {**consumer.SUBSCRIPTIONS, "slowprobe": {"contacts": ("contact_created",)}}
blocking_sleep = patcher.original("time").sleep


class SlowProbe:
    name = "slowprobe"

    @on_events("contacts")
    def on_contact_events(self, payloads):
        for payload in payloads:
            blocking_sleep(payload.get("block", 0))
            with open(os.environ["PLEXUS_PROBE_RUNS"], "a") as runs:
                runs.write(payload["event_id"] + "\n")
