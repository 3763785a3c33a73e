"""bench/hostile_rules.py runs and reports: the 99,000-value rule is refused and the
largest allowed rule accepted; the SQL sizes (not timings) are checked, being exact."""

import json
import subprocess
import sys

from tests.e2e.conftest import ROOT


def test_hostile_rules_bench_runs_and_reports():
    done = subprocess.run(
        [sys.executable, "-m", "bench.hostile_rules", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    hostile, largest = json.loads(done.stdout.splitlines()[-1])["results"]
    assert hostile["verdict"] == "422 rule.any.2.value"
    assert largest["verdict"] == "accepted"
    # One IN list a variable condition: the values themselves, not a subquery each
    # (21.45 MB before).
    assert hostile["sql"]["postgresql"][0] < 2_000_000
    assert largest["sql"]["postgresql"][0] < 100_000
