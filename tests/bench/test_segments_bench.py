"""bench/segments.py runs and reports (CI-sized); its numbers are not judged here."""

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.postgres


def test_segments_bench_runs_and_reports():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.segments",
            "--contacts",
            "5000",
            "--repeat",
            "2",
            "--updates",
            "20",
            "--no-record",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ratio compiled / hand-written" in done.stdout
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["contacts"] == 5000
    assert report["evaluation"]["members"] > 0 and report["evaluation"]["ratio"] > 0
    assert report["latency"]["samples"] == 20 and report["latency"]["p99_ms"] > 0
