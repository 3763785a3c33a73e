"""Writes the Grafana dashboards under deploy/grafana/dashboards: an overview and one per
service of the suite, built with Grafana's own typed SDK (grafana-foundation-sdk), so
each is a valid Grafana dashboard by construction. Run after adding a service:

    .venv/bin/python deploy/grafana/generate.py

tests/deploy/test_grafana.py fails when the committed files are out of step, and checks
every query with promtool.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from plexus.suite import SERVICES  # noqa: E402

OUTPUT = Path(__file__).with_name("dashboards")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")


def panel(title: str, unit: str, *queries: tuple[str, str]) -> timeseries.Panel:
    built = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    for ref, (expr, legend) in zip("ABCDEFGH", queries, strict=False):
        built = built.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
        )
    return built


def service_panels(service: str) -> list[timeseries.Panel]:
    p = f"plexus_{service}"
    panels = [
        panel(
            "RPC calls per second",
            "reqps",
            (f"sum by (method) (rate({p}_rpc_duration_seconds_count[5m]))", "{{method}}"),
        ),
        panel(
            "RPC latency p99",
            "s",
            (
                f"histogram_quantile(0.99, sum by (le, method) "
                f"(rate({p}_rpc_duration_seconds_bucket[5m])))",
                "{{method}}",
            ),
        ),
        panel(
            "RPC errors per second",
            "reqps",
            (f"sum by (method, error) (rate({p}_rpc_errors_total[5m]))", "{{method}} {{error}}"),
        ),
        panel(
            "Events handled per second",
            "ops",
            (f"sum by (event) (rate({p}_event_handler_duration_seconds_count[5m]))", "{{event}}"),
        ),
        panel(
            "Event handling p99",
            "s",
            (
                f"histogram_quantile(0.99, sum by (le, event) "
                f"(rate({p}_event_handler_duration_seconds_bucket[5m])))",
                "{{event}}",
            ),
        ),
        panel(
            "Event retries and dead letters",
            "ops",
            (
                f"sum by (source, outcome) (rate({p}_event_retries_total[5m]))",
                "{{source}} {{outcome}}",
            ),
        ),
        panel(
            "Events published per second",
            "ops",
            (f"sum by (event) (rate({p}_events_published_total[5m]))", "{{event}}"),
        ),
        panel("Outbox backlog", "short", (f"max({p}_outbox_pending_events)", "pending")),
        panel(
            "Event lag p99 (occurred to handled)",
            "s",
            (
                f"histogram_quantile(0.99, sum by (le, source) "
                f"(rate({p}_event_lag_seconds_bucket[5m])))",
                "{{source}}",
            ),
        ),
        panel(
            "Database connections",
            "short",
            (f"sum by (state) ({p}_db_pool_connections)", "{{state}}"),
        ),
    ]
    if service.startswith("sender_"):
        panels += [
            panel(
                "Messages by outcome",
                "ops",
                (f"sum by (outcome) (rate({p}_messages_total[5m]))", "{{outcome}}"),
            ),
            panel(
                "Provider latency p99",
                "s",
                (
                    f"histogram_quantile(0.99, sum by (le, provider) "
                    f"(rate({p}_provider_duration_seconds_bucket[5m])))",
                    "{{provider}}",
                ),
            ),
            panel(
                "Provider failures",
                "ops",
                (
                    f"sum by (outcome) (rate({p}_provider_duration_seconds_count"
                    f'{{outcome!="accepted"}}[5m]))',
                    "{{outcome}}",
                ),
            ),
            panel(
                "Rate-limit wait (seconds per second)",
                "s",
                (f"rate({p}_rate_limit_wait_seconds_total[5m])", "waiting"),
            ),
        ]
    if service == "campaigns":
        panels += [
            panel(
                "Campaign messages queued and refused per second",
                "ops",
                ("sum(rate(plexus_campaigns_messages_queued_total[5m]))", "queued"),
                (
                    "sum by (reason) (rate(plexus_campaigns_messages_refused_total[5m]))",
                    "refused {{reason}}",
                ),
            ),
            panel(
                "Campaigns by status",
                "short",
                ("max by (status) (plexus_campaigns_campaigns)", "{{status}}"),
            ),
            panel(
                "Recipients due, not yet handed to messaging",
                "short",
                ("max(plexus_campaigns_due_recipients)", "due"),
            ),
        ]
    if service == "gateway":
        panels = [
            panel(
                "Requests per second by status",
                "reqps",
                ("sum by (status) (rate(plexus_gateway_requests_total[5m]))", "{{status}}"),
            ),
            panel(
                "Latency p99 by route",
                "s",
                (
                    "histogram_quantile(0.99, sum by (le, route) "
                    "(rate(plexus_gateway_request_duration_seconds_bucket[5m])))",
                    "{{route}}",
                ),
            ),
            panel("5xx ratio", "percentunit", ("plexus:gateway_error_ratio:rate5m", "5xx")),
            panel(
                "Requests per second by route",
                "reqps",
                ("sum by (route) (rate(plexus_gateway_requests_total[5m]))", "{{route}}"),
            ),
        ]
    return panels


def overview_panels() -> list[timeseries.Panel]:
    return [
        panel(
            "Processes up by service", "short", ('sum by (job) (up{job=~"plexus-.+"})', "{{job}}")
        ),
        panel(
            "Gateway requests per second",
            "reqps",
            ("sum(rate(plexus_gateway_requests_total[5m]))", "all"),
            ('sum(rate(plexus_gateway_requests_total{status=~"5.."}[5m]))', "5xx"),
        ),
        panel(
            "Gateway latency p99",
            "s",
            (
                "histogram_quantile(0.99, sum by (le) "
                "(rate(plexus_gateway_request_duration_seconds_bucket[5m])))",
                "p99",
            ),
        ),
        panel(
            "RPC latency p99 by service",
            "s",
            ("max by (job) (plexus:rpc_latency_seconds:p99_5m)", "{{job}}"),
        ),
        panel(
            "Dead letters (10 min)",
            "short",
            ("sum by (job, source) (plexus:dead_letters:increase10m)", "{{job}} {{source}}"),
        ),
        panel("Outbox backlog by service", "short", ("plexus:outbox_pending_events", "{{job}}")),
    ]


def build(uid: str, title: str, panels) -> dict:
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["plexus"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("utc")
    )
    for item in panels:
        board = board.with_panel(item)
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def dashboards() -> dict[str, dict]:
    boards = {"overview": build("plexus-overview", "Plexus overview", overview_panels())}
    for service in SERVICES:
        boards[service] = build(
            f"plexus-{service.replace('_', '-')}", f"Plexus {service}", service_panels(service)
        )
    return boards


def render(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.mkdir(exist_ok=True)
    for old in OUTPUT.glob("*.json"):
        old.unlink()
    for name, board in dashboards().items():
        (OUTPUT / f"{name}.json").write_text(render(board))
    print(f"wrote {len(dashboards())} dashboards to {OUTPUT.relative_to(ROOT)}")
