"""The benchmarks run and report (CI-sized); their numbers are not judged here."""

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.postgres


def test_activity_feed_bench_runs_and_reports():
    done = subprocess.run(
        [sys.executable, "-m", "bench.activity_feed", "--rows", "20000", "--repeat", "30",
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("activity feed, 20,000 rows") for line in lines), done.stdout
    assert "Index Scan" in done.stdout  # the plan of the filtered page
    report = json.loads(lines[-1])
    assert report["rows"] == 20000
    assert [case["case"] for case in report["results"]] == ["first page", "filtered page"]
    for case in report["results"]:
        assert case["function"]["p50"] > 0 and case["sql"]["p99"] > 0 and case["ratio_p50"] > 0


def test_rpc_roundtrip_bench_runs_and_reports():
    done = subprocess.run(
        [sys.executable, "-m", "bench.rpc_roundtrip", "--calls", "50", "--json"], cwd=ROOT,
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert set(report["results"]) == {"raw", "raw client -> nameko service",
                                      "plexus client -> nameko service",
                                      "nameko client -> nameko service"}
    assert all(r["p50"] > 0 and r["per_second"] > 0 for r in report["results"].values())
    assert "| p50 / raw |" in done.stdout


def test_gateway_lookup_bench_runs_and_reports():
    done = subprocess.run(
        [sys.executable, "-m", "bench.gateway_lookup", "--contacts", "20", "--seconds", "1",
         "--connections", "1,4", "--json"], cwd=ROOT, capture_output=True, text=True,
        timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    cells = [(r["case"], r["connections"]) for r in report["results"]]
    assert cells == [("by id", 1), ("by id", 4), ("by email", 1), ("by email", 4)]
    for cell in report["results"]:
        for side in ("plexus", "direct"):
            assert cell[side]["per_second"] > 0 and cell[side]["p99"] > 0
            assert cell[side]["errors"] == 0, cell  # every look-up found its contact
    assert "| Plexus req/s | direct req/s |" in done.stdout
