"""Writes the Grafana dashboards under deploy/grafana/dashboards, built with Grafana's own
typed SDK (grafana-foundation-sdk), so each is a valid Grafana dashboard by construction:
an overview, one for what every service has (RPCs, events, outbox, database pool) and one
for the channel senders, each picking its service with a $service variable (the metrics
carry `service` as a label), and the gateway's and campaigns' own. Run after a change:

    .venv/bin/python deploy/grafana/generate.py

tests/deploy/test_grafana.py fails when the committed files are out of step, and checks
every query with promtool.
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

ROOT = Path(__file__).resolve().parents[2]


OUTPUT = Path(__file__).with_name("dashboards")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")


def panel(title: str, unit: str, *queries: tuple[str, str]) -> timeseries.Panel:
    built = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    for ref, (expr, legend) in zip("ABCDEFGH", queries, strict=False):
        built = built.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
        )
    return built


SERVICE = 'service="$service"'


def service_panels() -> list[timeseries.Panel]:
    """What every service has: RPCs answered, events handled and published, the database
    pool; one dashboard, the service picked by $service."""
    return [
        panel(
            "RPC calls per second",
            "reqps",
            (
                f"sum by (method) (rate(plexus_rpc_duration_seconds_count{{{SERVICE}}}[5m]))",
                "{{method}}",
            ),
        ),
        panel(
            "RPC latency p99",
            "s",
            (
                "histogram_quantile(0.99, sum by (le, method) "
                f"(rate(plexus_rpc_duration_seconds_bucket{{{SERVICE}}}[5m])))",
                "{{method}}",
            ),
        ),
        panel(
            "RPC errors per second",
            "reqps",
            (
                f"sum by (method, error) (rate(plexus_rpc_errors_total{{{SERVICE}}}[5m]))",
                "{{method}} {{error}}",
            ),
        ),
        panel(
            "Events handled per second",
            "ops",
            (
                "sum by (event) "
                f"(rate(plexus_event_handler_duration_seconds_count{{{SERVICE}}}[5m]))",
                "{{event}}",
            ),
        ),
        panel(
            "Event handling p99",
            "s",
            (
                "histogram_quantile(0.99, sum by (le, event) "
                f"(rate(plexus_event_handler_duration_seconds_bucket{{{SERVICE}}}[5m])))",
                "{{event}}",
            ),
        ),
        panel(
            "Retries and dead letters",
            "ops",
            (
                f"sum by (source, outcome) (rate(plexus_event_retries_total{{{SERVICE}}}[5m]))",
                "events from {{source}} {{outcome}}",
            ),
            (
                f"sum by (source, outcome) (rate(plexus_send_retries_total{{{SERVICE}}}[5m]))",
                "sends {{source}} {{outcome}}",
            ),
        ),
        panel(
            "Published per second",
            "ops",
            (
                f"sum by (outbox, event) (rate(plexus_outbox_published_total{{{SERVICE}}}[5m]))",
                "{{outbox}} {{event}}",
            ),
        ),
        panel(
            "Outbox backlog",
            "short",
            (f"max by (outbox) (plexus_outbox_pending{{{SERVICE}}})", "{{outbox}}"),
        ),
        panel(
            "Event lag p99 (occurred to handled)",
            "s",
            (
                "histogram_quantile(0.99, sum by (le, source) "
                f"(rate(plexus_event_lag_seconds_bucket{{{SERVICE}}}[5m])))",
                "{{source}}",
            ),
        ),
        panel(
            "Database connections",
            "short",
            (f"sum by (state) (plexus_db_pool_connections{{{SERVICE}}})", "{{state}}"),
        ),
    ]


def sender_panels() -> list[timeseries.Panel]:
    """A channel sender and its provider, picked by $service."""
    return [
        panel(
            "Messages by outcome",
            "ops",
            (
                f"sum by (outcome) (rate(plexus_sender_messages_total{{{SERVICE}}}[5m]))",
                "{{outcome}}",
            ),
        ),
        panel(
            "Provider latency p99",
            "s",
            (
                "histogram_quantile(0.99, sum by (le, provider) "
                f"(rate(plexus_provider_duration_seconds_bucket{{{SERVICE}}}[5m])))",
                "{{provider}}",
            ),
        ),
        panel(
            "Provider failure ratio",
            "percentunit",
            (f"plexus:provider_failure_ratio:rate10m{{{SERVICE}}}", "{{provider}}"),
        ),
        panel(
            "Rate-limit wait (seconds per second)",
            "s",
            (f"sum(rate(plexus_rate_limit_wait_seconds_total{{{SERVICE}}}[5m]))", "waiting"),
        ),
        panel(
            "Queue depth and consumers (RabbitMQ)",
            "short",
            (
                'sum by (queue) (rabbitmq_detailed_queue_messages{queue=~"plexus.messages.+"})',
                "{{queue}}",
            ),
            (
                'sum by (queue) (rabbitmq_detailed_queue_consumers{queue=~"plexus.messages.+"})',
                "{{queue}} consumers",
            ),
        ),
    ]


def campaigns_panels() -> list[timeseries.Panel]:
    return [
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
        panel(
            "Workflow runs started and moved on per second",
            "ops",
            ("sum(rate(plexus_workflow_runs_started_total[5m]))", "started"),
            ("sum(rate(plexus_workflow_runs_advanced_total[5m]))", "moved on"),
        ),
        panel(
            "Workflow runs due, not yet moved on",
            "short",
            ("max(plexus_workflow_runs_due)", "due"),
        ),
    ]


def gateway_panels() -> list[timeseries.Panel]:
    return [
        panel(
            "Requests per second by status",
            "reqps",
            ("sum by (status) (rate(plexus_gateway_requests_total[5m]))", "{{status}}"),
        ),
        panel(
            "Latency p99 by route",
            "s",
            ("plexus:gateway_latency_seconds:p99_5m", "{{route}}"),
        ),
        panel("5xx ratio", "percentunit", ("plexus:gateway_error_ratio:rate5m", "5xx")),
        panel(
            "Requests per second by route",
            "reqps",
            ("sum by (route) (rate(plexus_gateway_requests_total[5m]))", "{{route}}"),
        ),
        panel(
            "Connections refused (over the limit)",
            "ops",
            ("sum(rate(plexus_gateway_refused_connections_total[5m]))", "refused"),
        ),
    ]


def overview_panels() -> list[timeseries.Panel]:
    return [
        panel(
            "Processes up by service", "short", ('sum by (job) (up{job=~"plexus-.+"})', "{{job}}")
        ),
        panel(
            "Builds running",
            "short",
            (
                "count by (service, version, revision) (plexus_build_info)",
                "{{service}} {{version}} {{revision}}",
            ),
        ),
        panel(
            "Gateway requests per second",
            "reqps",
            ("sum(rate(plexus_gateway_requests_total[5m]))", "all"),
            ('sum(rate(plexus_gateway_requests_total{status=~"5.."}[5m]))', "5xx"),
        ),
        panel(
            "RPC latency p99 by service",
            "s",
            ("max by (service) (plexus:rpc_latency_seconds:p99_5m)", "{{service}}"),
        ),
        panel(
            "Dead letters (10 min)",
            "short",
            (
                "sum by (service, source) (plexus:dead_letters:increase10m)",
                "{{service}} {{source}}",
            ),
        ),
        panel(
            "Outbox backlog by service",
            "short",
            ("plexus:outbox_pending", "{{service}} {{outbox}}"),
        ),
        panel(
            "Queues: messages waiting",
            "short",
            ("topk(10, sum by (queue) (rabbitmq_detailed_queue_messages))", "{{queue}}"),
        ),
    ]


def service_variable(metric: str, pattern: str = "") -> dashboard.QueryVariable:
    """$service: the services that report `metric` (matching `pattern`, if given)."""
    query = f"label_values({metric}, service)"
    built = (
        dashboard.QueryVariable("service")
        .label("Service")
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
    )
    return built.regex(pattern) if pattern else built


def build(uid: str, title: str, panels, variable=None) -> dict:
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["plexus"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("utc")
    )
    if variable is not None:
        board = board.with_variable(variable)
    for item in panels:
        board = board.with_panel(item)
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def dashboards() -> dict[str, dict]:
    """One dashboard per kind of process; a kind with many services picks one by $service."""
    return {
        "overview": build("plexus-overview", "Plexus overview", overview_panels()),
        "service": build(
            "plexus-service",
            "Plexus service",
            service_panels(),
            service_variable("plexus_build_info"),
        ),
        "sender": build(
            "plexus-sender",
            "Plexus channel sender",
            sender_panels(),
            service_variable("plexus_build_info", "/sender_.*/"),
        ),
        "gateway": build("plexus-gateway", "Plexus gateway", gateway_panels()),
        "campaigns": build("plexus-campaigns", "Plexus campaigns", campaigns_panels()),
    }


def render(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.mkdir(exist_ok=True)
    for old in OUTPUT.glob("*.json"):
        old.unlink()
    for name, board in dashboards().items():
        (OUTPUT / f"{name}.json").write_text(render(board))
    print(f"wrote {len(dashboards())} dashboards to {OUTPUT.relative_to(ROOT)}")
