"""deploy/prometheus: the config and rules pass promtool, the rule tests pass, and every
service of the suite is scraped on the port config.yaml gives it."""

import shutil
import subprocess

import pytest
import yaml

from plexus.config import PROJECT_ROOT, load_config, metrics_port
from plexus.suite import SERVICES

PROMETHEUS_DIR = PROJECT_ROOT / "deploy" / "prometheus"
RUNBOOKS = "https://plexus.dev/docs/operations"


def promtool(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("promtool") is None:
        pytest.fail(
            "promtool not found: it ships in Debian's prometheus package "
            "(make test installs it as root)"
        )
    return subprocess.run(
        ["promtool", *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60
    )


def test_config_and_rules_are_valid():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "rules found" in checked.stdout


def test_alerts_fire_when_they_should_and_only_then():
    tested = promtool("test", "rules", "tests/plexus_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_service_is_scraped_on_its_metrics_port(service):
    scrape = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {
        target
        for job in scrape["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    port = metrics_port(load_config(), service)
    assert port, f"{service} has no metrics port in config.yaml"
    assert f"{service}:{port}" in targets


def test_every_alert_links_its_runbook_section():
    """runbook_url: an absolute link to the alert's own section of docs/operations.md."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules" / "plexus.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    headings = {
        line.removeprefix("### ").strip().lower()
        for line in (PROJECT_ROOT / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("### ")
    }
    for alert in alerts:
        url = alert["annotations"]["runbook_url"]
        assert url == f"{RUNBOOKS}#{alert['alert'].lower()}", alert["alert"]
        assert alert["alert"].lower() in headings, alert["alert"]
