"""deploy/grafana: one dashboard per kind of process (every service, the senders, the
gateway, campaigns) and an overview, in step with the generator, readable by Grafana's own
schema models, every query valid PromQL (promtool), and every metric a panel reads one that
the code defines or a recording rule makes."""

import importlib.util
import json
import re
import subprocess

import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from plexus.config import PROJECT_ROOT

GRAFANA = PROJECT_ROOT / "deploy" / "grafana"


def generator():
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def committed() -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text()) for path in (GRAFANA / "dashboards").glob("*.json")
    }


def test_committed_dashboards_are_what_the_generator_makes(committed):
    made = generator().dashboards()
    assert set(committed) == set(made) == {"overview", "service", "sender", "gateway", "campaigns"}
    for name, board in made.items():
        assert committed[name] == board, "run: .venv/bin/python deploy/grafana/generate.py"


def test_dashboards_load_as_grafana_models_with_unique_uids(committed):
    uids = set()
    for name, board in committed.items():
        model = Dashboard.from_json(board)
        assert model.title and model.panels, name
        uids.add(model.uid)
    assert len(uids) == len(committed)


def test_every_query_is_valid_promql(committed, tmp_path):
    exprs = [
        target["expr"]
        for board in committed.values()
        for panel in board["panels"]
        for target in panel["targets"]
    ]
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [
                    {"record": f"dashboard_query_{i}", "expr": expr} for i, expr in enumerate(exprs)
                ],
            }
        ]
    }
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "queries.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(exprs)} rules found" in checked.stdout


def test_the_service_dashboards_pick_their_service(committed):
    for name in ("service", "sender"):
        [variable] = committed[name]["templating"]["list"]
        assert variable["name"] == "service"
        queries = [t["expr"] for p in committed[name]["panels"] for t in p["targets"]]
        assert all('service="$service"' in q or "rabbitmq_" in q for q in queries), name


def test_every_plexus_metric_a_panel_reads_exists(committed):
    """Names only: a metric the code defines (plexus_... in the source) or a recording
    rule's (plexus:...), so a renamed metric cannot leave a panel empty."""
    source = "\n".join(
        path.read_text()
        for folder in ("plexus", "services")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
    )
    rules = (PROJECT_ROOT / "deploy" / "prometheus" / "rules" / "plexus.yml").read_text()
    read = {
        name
        for board in committed.values()
        for panel in board["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(plexus[_:][a-z0-9_:]+)", target["expr"])
    }
    suffixes = ("_bucket", "_count", "_sum")
    missing = {
        name
        for name in read
        if (name.removesuffix(next((s for s in suffixes if name.endswith(s)), "")) not in source)
        and f"record: {name}" not in rules
    }
    assert not missing
