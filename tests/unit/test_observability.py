"""The observability files hold together: the alert rules are valid and their ``promtool`` test cases
pass (each alert fired by one, quiet cases stay quiet), the Grafana dashboard is a dashboard, and the
dashboard and the rules query only series ``docs/metrics.md`` lists. Also the collectors that serve the
splitter's and the ShipStation adapter's table figures, without a database.

``promtool`` comes from Debian's ``prometheus`` package (``apt-get install prometheus``; .ci/run
installs it). Without it the promtool tests skip on a developer machine and fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from services.shipstation.metrics import ConnectionMetrics, VendorConnection
from services.splitter.metrics import SplitterFigures, SplitterMetrics
from shared.contracts.orders import HOLD_CODES

ROOT = Path(__file__).resolve().parents[2]
METRICS_DOC = ROOT / "docs" / "metrics.md"
DASHBOARD = ROOT / "deploy" / "grafana" / "dropship.json"
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "alerts_test.yml"
SCRAPED = {
    "console": 8000,
    "intake": 8001,
    "splitter": 8002,
    "shipstation": 8003,
    "tracking": 8004,
    "gateway": 8005,
    "channels": 8006,
}
SERVICES = ("all", *SCRAPED)
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
BUILT_IN = {"up"}
"""Series Prometheus makes itself for every target."""


# --- docs/metrics.md ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    name: str
    type: str
    labels: frozenset[str]
    service: str


@cache
def documented_metrics() -> dict[str, Documented]:
    """The rows of the table under "## Series" in docs/metrics.md, by name."""
    text = METRICS_DOC.read_text()
    section = text.split("\n## Series\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, Documented] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name, kind, labels, service = cells[0].strip("`"), cells[1], cells[2], cells[3]
        assert name not in found, f"{name} is listed twice"
        found[name] = Documented(name, kind, frozenset(re.findall(r"`([a-z_]+)`", labels)), service)
    return found


def documented_for(service: str) -> set[str]:
    """What ``service`` exports by the doc: its own series and every runtime's."""
    return {m.name for m in documented_metrics().values() if m.service in {service, "all"}}


def test_the_metrics_doc_is_a_table_of_known_types_and_services() -> None:
    metrics = documented_metrics()
    assert len(metrics) > 40
    for metric in metrics.values():
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", metric.name), metric.name
        assert metric.type in {"counter", "gauge", "histogram"}, metric
        assert metric.service in SERVICES, metric
        # As a query names it: counters with _total, histograms by their base name.
        assert metric.name.endswith("_total") == (metric.type == "counter"), metric
        assert not metric.name.endswith(HISTOGRAM_SUFFIXES) or metric.type != "histogram", metric
    for name in ("dropship_queue_messages", "dropship_queue_consumers", "dropship_parked_messages"):
        assert metrics[name].service == "console" and metrics[name].labels == {"queue"}


# --- PromQL names --------------------------------------------------------------------------------

PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
PROMQL_KEYWORDS |= {"offset", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: every identifier that is not a function or aggregation
    (followed by ``(``), a keyword, a label (inside ``{…}`` or a ``by``/``on`` list), a string, a
    duration or a Grafana variable."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        if match.group(2) is None and match.group(1).lower() not in PROMQL_KEYWORDS:
            names.add(match.group(1))
    return names


def base_name(name: str) -> str:
    """A histogram's ``_bucket``/``_sum``/``_count`` series as the histogram the doc lists."""
    for suffix in HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and documented_metrics().get(base, Documented("", "", frozenset(), "")).type == "histogram":
            return base
    return name


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum(rate(http_requests_total{route="/v1/orders", status=~"2.."}[5m])) * 60', {"http_requests_total"}),
        (
            "histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))",
            {"http_request_duration_seconds_bucket"},
        ),
        ('max by (queue) (dropship_queue_consumers{queue!~".+\\\\.parked"}) == 0', {"dropship_queue_consumers"}),
        ("up == 0 and on (job) absent(x_total offset 1h) or vector(1e3)", {"up", "x_total"}),
        ("a / ignoring (kind) group_left (shop) b > bool 15 * 60", {"a", "b"}),
        ("sum(rate(a_total[5m])) by (vendor)", {"a_total"}),
    ],
)
def test_promql_names_are_read_as_metrics(expr: str, names: set[str]) -> None:
    assert promql_metric_names(expr) == names


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _query_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        panels += panel.get("panels", []) if panel["type"] == "row" else [panel]
    return panels


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def _queries() -> list[tuple[str, str]]:
    """(where, expression) of every dashboard target and every rule."""
    found = [
        (f"dashboard panel {panel['title']!r}", target["expr"])
        for panel in _query_panels(_dashboard())
        for target in panel["targets"]
    ]
    return found + [(f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in _rules()]


def test_the_dashboard_and_the_rules_query_only_listed_metrics() -> None:
    documented = set(documented_metrics())
    for where, expr in _queries():
        names = promql_metric_names(str(expr))
        assert names, f"{where}: {expr} selects no series"
        unknown = {base_name(name) for name in names} - documented - BUILT_IN
        assert not unknown, f"{where} queries {sorted(unknown)}, which docs/metrics.md does not list"


def test_the_dashboard_shows_what_ops_watch() -> None:
    queried = {
        base_name(name)
        for panel in _query_panels(_dashboard())
        for t in panel["targets"]
        for name in promql_metric_names(t["expr"])
    }
    for name in (
        "http_requests_total",
        "splitter_vendor_orders_created_total",
        "messages_handled_total",
        "webhook_deliveries_total",
        "http_request_duration_seconds",
        "dropship_queue_messages",
        "dropship_queue_consumers",
        "dropship_parked_messages",
        "splitter_held_orders",
        "gateway_deliveries_total",
        "shipstation_last_poll_age_seconds",
        "shipstation_zone_warning",
        "channel_backlog",
    ):
        assert name in queried, f"no panel shows {name}"


def test_the_dashboard_is_a_dashboard_on_a_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"]
    [variable] = [v for v in dashboard["templating"]["list"] if v["name"] == "datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    panels = _query_panels(dashboard)
    assert len(panels) >= 10
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert isinstance(target.get("expr"), str) and target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


# --- alert rules ---------------------------------------------------------------------------------


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    alerts = [rule for rule in _rules() if "alert" in rule]
    assert len(alerts) >= 9
    assert len({rule["alert"] for rule in alerts}) == len(alerts)
    for rule in alerts:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip(), rule["alert"]


def test_the_issue_s_alerts_are_there() -> None:
    exprs = {rule["alert"]: str(rule["expr"]) for rule in _rules() if "alert" in rule}
    wanted = {
        "dropship_queue_consumers",
        "dropship_parked_messages",
        "webhook_oldest_undelivered_age_seconds",
        "gateway_oldest_undelivered_age_seconds",
        "channel_backlog_oldest_seconds",
        "shipstation_last_poll_age_seconds",
        "shipstation_zone_warning",
        "splitter_feeds_quarantined",
        "up",
    }
    alerted = {name for expr in exprs.values() for name in promql_metric_names(expr)}
    assert wanted <= alerted
    no_consumer = next(rule for rule in _rules() if "dropship_queue_consumers" in str(rule.get("expr")))
    assert no_consumer["for"] == "2m" and "== 0" in no_consumer["expr"]


def test_every_alert_has_a_test_case_that_fires_it() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())
    assert cases["rule_files"] == ["alerts.yml"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in cases["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in _rules() if "alert" in rule}
    assert alerts <= fired, f"no test case fires {sorted(alerts - fired)}"
    assert quiet, "no test case where an alert stays quiet"
    assert (fired | quiet) <= alerts, f"test cases for alerts that do not exist: {sorted((fired | quiet) - alerts)}"


def test_prometheus_scrapes_every_service_by_its_compose_name_and_reads_the_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    targets = {
        job["job_name"]: [target for static in job["static_configs"] for target in static["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {name: [f"{name}:{port}"] for name, port in SCRAPED.items()}


@pytest.fixture(scope="module")
def promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        message = "promtool is not installed (apt-get install prometheus); .ci/run installs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}, and CI must check the alert rules", pytrace=False)
        pytest.skip(message)
    return binary


def _promtool(binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_accepts_the_rules_and_the_config(promtool: str) -> None:
    checked = _promtool(promtool, "check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in checked.stdout
    config = _promtool(promtool, "check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_rule_tests_pass(promtool: str) -> None:
    tested = _promtool(promtool, "test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_rule_tests_fail_when_an_alert_no_longer_fires(promtool: str, tmp_path: Path) -> None:
    """The cases check something: with a rule that cannot fire, ``promtool test rules`` fails."""
    broken = RULES.read_text().replace("expr: up == 0", "expr: up == 42")
    assert broken != RULES.read_text()
    (tmp_path / "alerts.yml").write_text(broken)
    shutil.copy(RULE_TESTS, tmp_path / "alerts_test.yml")
    done = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "DropshipServiceDown" in done.stdout + done.stderr


# --- the table figures' collectors ---------------------------------------------------------------


def _samples(registry: CollectorRegistry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_splitter_figures_show_every_hold_reason_and_replace_the_last_reading() -> None:
    registry = CollectorRegistry()
    metrics = SplitterMetrics(registry)
    text = generate_latest(registry).decode()
    # Before the first reading: the names, no made-up zeros.
    assert "# HELP splitter_held_orders " in text and "# HELP splitter_vendor_orders_created_total " in text
    assert _samples(registry, "splitter_held_orders") == {}

    metrics.show(SplitterFigures({"no_stock": 3, "unpaid": 1}, {"east": 1, "west": 0}, {"east": 7}))
    held = _samples(registry, "splitter_held_orders")
    assert {labels[0][1] for labels in held} == set(HOLD_CODES)
    assert held[(("reason", "no_stock"),)] == 3 and held[(("reason", "duplicate"),)] == 0
    assert _samples(registry, "splitter_feeds_quarantined") == {(("vendor", "east"),): 1, (("vendor", "west"),): 0}
    assert _samples(registry, "splitter_vendor_orders_created_total") == {(("vendor", "east"),): 7}

    metrics.show(SplitterFigures({}, {"west": 2}, {"east": 9}))
    assert _samples(registry, "splitter_held_orders")[(("reason", "no_stock"),)] == 0
    assert _samples(registry, "splitter_feeds_quarantined") == {(("vendor", "west"),): 2}
    assert _samples(registry, "splitter_vendor_orders_created_total") == {(("vendor", "east"),): 9}


def test_shipstation_poll_age_is_worked_out_at_each_scrape() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock = [now]
    registry = CollectorRegistry()
    metrics = ConnectionMetrics(registry, clock=lambda: clock[0])
    assert _samples(registry, "shipstation_last_poll_age_seconds") == {}
    metrics.show(
        [
            VendorConnection("west", now - timedelta(hours=4), zone_warning=True),
            VendorConnection("east", now - timedelta(seconds=30), zone_warning=False),
        ]
    )
    assert _samples(registry, "shipstation_last_poll_age_seconds") == {
        (("vendor", "east"),): 30,
        (("vendor", "west"),): 4 * 3600,
    }
    assert _samples(registry, "shipstation_zone_warning") == {(("vendor", "east"),): 0, (("vendor", "west"),): 1}
    clock[0] = now + timedelta(minutes=10)
    assert _samples(registry, "shipstation_last_poll_age_seconds")[(("vendor", "east"),)] == 630
    metrics.show([])
    assert _samples(registry, "shipstation_zone_warning") == {}
