"""schemathesis against /openapi.json with a valid admin key: every route, generated and
boundary input, then chains of requests along the spec's links (its stateful phase: a
contact made, then read, changed, erased...). No 5xx; every answer's status, content type
and body as documented; input the schema forbids refused (negative_data_rejection); and
no keyed route answering without the key (ignored_auth)."""

import re
import subprocess
import sys
from pathlib import Path

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection,ignored_auth"
)
# hypothesis describes its own lambdas with ast.parse, which CPython 3.11 (before 3.11.8,
# gh-106905) can break when two threads parse at once ("AST constructor recursion depth
# mismatch"): one worker thread, and should it still happen, a fault of the tool, not
# of the API, so another seed.
TOOL_FAULT = "SystemError: AST constructor recursion depth mismatch"
SEEDS = (20261123, 20261124, 20261125)
CONFIG = Path(__file__).with_name("schemathesis.toml")
# (phases, examples per operation): every phase with a few examples (~50 s a suite), then
# the stateful phase alone with more scenarios (~10 s), as its chains are what find a
# route answering off its schema for data another route made.
RUNS = ((None, 8), ("stateful", 40))


def fuzz(
    suite, report_dir: Path, seed: int, phases: str | None, examples: int
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{suite.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {suite.key}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(examples),
            "--workers",
            "1",
            "--seed",
            str(seed),
            "--no-color",
            "--report-dir",
            str(report_dir),
            *(["--phases", phases] if phases else []),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_route_answers_5xx_or_off_its_schema(own_suite, tmp_path):
    # A suite of its own: the fuzz makes data no other test should meet (random sources,
    # categories, account variables, segments).
    for phases, examples in RUNS:
        for seed in SEEDS:
            done = fuzz(own_suite, tmp_path, seed, phases, examples)
            output = done.stdout + done.stderr
            if not (done.returncode and "Failures:" not in output and TOOL_FAULT in output):
                break
        # The report's tail lists every failure with a curl line to replay it; a generated
        # body of megabytes is shown by its length, not its text.
        shown = re.sub(r"(.)\1{199,}", lambda run: f"{run.group(1)}…x{len(run.group(0))}", output)
        assert done.returncode == 0, shown[-8000:]
