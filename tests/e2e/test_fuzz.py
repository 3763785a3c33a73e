"""schemathesis against /openapi.json with a valid admin key: every route, generated and
boundary input, no 5xx, and every answer's status, content type and body as documented."""

import subprocess
import sys
from pathlib import Path

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")
# hypothesis sometimes fails to describe one of its own lambdas while generating
# ("AST constructor recursion depth mismatch"): a fault of the tool, not of the API.
TOOL_FAULT = "SystemError: AST constructor recursion depth mismatch"


def fuzz(suite, report_dir: Path, seed: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "run",
         f"{suite.url}/openapi.json", "-H", f"Authorization: Bearer {suite.key}",
         "--checks", CHECKS, "--max-examples", "8", "--workers", "2", "--seed", str(seed),
         "--no-color", "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=600)


def test_no_route_answers_5xx_or_off_its_schema(suite, tmp_path):
    done = fuzz(suite, tmp_path, 20261123)
    output = done.stdout + done.stderr
    if done.returncode and "Failures:" not in output and TOOL_FAULT in output:
        done = fuzz(suite, tmp_path, 20261124)
        output = done.stdout + done.stderr
    # The report's tail lists every failure with a curl line to replay it.
    assert done.returncode == 0, output[-6000:]
