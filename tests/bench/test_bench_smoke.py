"""The benchmarks run and report (CI-sized); their numbers are not judged here."""

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.postgres


def bench(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`python -m <module> <args>`, run to a successful end (its stderr shown if not)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def report_of(done: subprocess.CompletedProcess) -> dict:
    """The figures a bench run with --json prints as its last line."""
    return json.loads(done.stdout.splitlines()[-1])


def test_activity_feed_bench_runs_and_reports():
    done = bench("bench.activity_feed", "--rows", "20000", "--repeat", "30", "--json", timeout=300)
    lines = done.stdout.splitlines()
    assert any(line.startswith("activity feed, 20,000 rows") for line in lines), done.stdout
    assert "Index Scan" in done.stdout  # the plan of the filtered page
    report = json.loads(lines[-1])
    assert report["rows"] == 20000
    assert [case["case"] for case in report["results"]] == ["first page", "filtered page"]
    for case in report["results"]:
        assert case["function"]["p50"] > 0 and case["sql"]["p99"] > 0 and case["ratio_p50"] > 0


def test_rpc_roundtrip_bench_runs_and_reports():
    done = bench("bench.rpc_roundtrip", "--calls", "50", "--json", timeout=120)
    report = report_of(done)
    assert set(report["results"]) == {
        "raw",
        "raw client -> nameko service",
        "plexus client -> nameko service",
        "nameko client -> nameko service",
    }
    assert all(r["p50"] > 0 and r["per_second"] > 0 for r in report["results"].values())
    assert "| p50 / raw |" in done.stdout


def test_gateway_lookup_bench_runs_and_reports():
    done = bench(
        "bench.gateway_lookup",
        "--contacts",
        "20",
        "--seconds",
        "1",
        "--connections",
        "1, 4",
        "--event-connections",
        "4",
        "--json",
        timeout=400,
    )
    report = report_of(done)
    assert [run["database"] for run in report["runs"]] == ["postgres", "sqlite"]
    for run in report["runs"]:
        assert all(run["serial"][side]["p50"] > 0 for side in ("raw", "plexus", "direct"))
        cells = [(r["case"], r["connections"]) for r in run["results"] + run["events"]]
        assert cells == [
            ("by id", 1),
            ("by id", 4),
            ("by email", 1),
            ("by email", 4),
            ("POST event", 4),
        ]
        for cell in run["results"] + run["events"]:
            for side in ("plexus", "direct"):
                assert cell[side]["per_second"] > 0 and cell[side]["p99"] > 0
                assert cell[side]["errors"] == 0, cell  # every request found its contact
    assert "| Plexus req/s | direct req/s |" in done.stdout
    assert "| Plexus / raw |" in done.stdout


def test_senders_bench_runs_and_reports():
    done = bench("bench.senders", "--messages", "40", "--latency", "0.01", "--json", timeout=300)
    runs = report_of(done)["runs"]
    assert [r["sender_processes"] for r in runs] == [1, 2]
    assert all(r["messages"] == 40 and r["sends_per_second"] > 0 for r in runs)
    assert "of one process's rate" in done.stdout


def test_rate_limit_bench_runs_and_reports():
    done = bench("bench.rate_limit", "--repeat", "50", "--json", timeout=180)
    report = report_of(done)
    for database in ("sqlite", "postgresql"):
        for case in ("no limit", "shared bucket"):
            assert 0 < report[database][case]["p50"] <= report[database][case]["p99"]
    assert report["local"]["p50"] > 0
    assert "| database | claim, no limit" in done.stdout


def test_fanout_bench_runs_and_reports():
    done = bench("bench.fanout", "--updates", "10", "--json", timeout=180)
    report = report_of(done)
    for path in ("floor", "plexus"):
        assert 0 < report[path]["p50"] <= report[path]["p99"]
    assert report["plexus"]["send_p50"] < report["plexus"]["p50"]  # the row comes after
    assert "| PATCH contact -> activity row |" in done.stdout


def test_batch_import_bench_runs_and_reports():
    done = bench("bench.batch_import", "--contacts", "1500", "--json", timeout=180)
    report = report_of(done)
    assert report["plexus"]["errors"] == 0  # every generated person is valid
    assert report["plexus"]["rows_per_second"] > 0 and report["copy"]["rows_per_second"] > 0
    assert "Plexus / COPY:" in done.stdout


def test_batch_profile_bench_runs_and_reports():
    done = bench("bench.batch_profile", "--items", "50", "--top", "5", timeout=120)
    assert "batch of 50 new contacts:" in done.stdout
    assert "| package | own s | share |" in done.stdout
    assert "batch_upsert" in done.stdout  # the functions, by cumulative time


def test_propagation_bench_runs_and_reports():
    done = bench(
        "bench.propagation",
        "--contacts",
        "300",
        "--events",
        "600",
        "--backend",
        "both",
        "--json",
        timeout=600,
    )
    report = report_of(done)
    assert [run["backend"] for run in report["runs"]] == ["sqlite", "postgresql"]
    for run in report["runs"]:
        assert run["import"]["created"] == 300  # every contact, in its feed and segment
        assert run["events"]["refused"] == 0 and run["events"]["per_second"] > 0
        assert run["floor"]["per_second"] > 0
    assert "| contacts/s end to end |" in done.stdout


def test_queue_batch_bench_runs_and_reports():
    done = bench("bench.queue_batch", "--messages", "1000", "--json", timeout=300)
    report = report_of(done)
    assert report["plexus"]["refused"] == 0 and report["again"]["refused"] == 0
    assert report["plexus"]["per_second"] > 0 and report["floor"]["per_second"] > 0


def test_campaigns_bench_runs_and_reports():
    done = bench("bench.campaigns", "--members", "1000", "--no-suite", "--json", timeout=300)
    report = report_of(done)
    assert report["plexus"]["queued"] == 1000 and report["plexus"]["refused"] == 0
    assert report["plexus"]["per_second"] > 0 and report["floor"]["per_second"] > 0


def test_workflows_bench_runs_and_reports():
    done = bench("bench.workflows", "--contacts", "500", "--json", timeout=300)
    report = report_of(done)
    assert 0 < report["start_seconds"] < 10 and 0 < report["send_seconds"] < 30
