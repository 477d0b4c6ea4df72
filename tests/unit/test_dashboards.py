"""deploy/: the Grafana dashboards and the Prometheus alerts hold together, and they name
only metrics the product exports (docs/operations.md, "Dashboards and alerts").

The exported names are read from the product's code (every prometheus_client metric and
metric family it constructs), never listed here: a metric renamed in the code fails this
test until the dashboard and the alerts follow.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
import yaml
from flask import Flask
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRODUCT = ("api", "worker", "models")
DEPLOY = ROOT / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
OPERATIONS = ROOT / "docs" / "operations.md"

# What Prometheus adds to every target it scrapes: not the product's, but always there.
SCRAPE_SERIES = frozenset({"up"})

# prometheus_client's constructors, and the series each exposes for a metric name.
SERIES_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "CounterMetricFamily": ("_total", "_created"),
    "Gauge": ("",),
    "GaugeMetricFamily": ("",),
    "Histogram": ("_bucket", "_count", "_sum", "_created"),
    "HistogramMetricFamily": ("_bucket", "_count", "_sum", "_created"),
    "Summary": ("", "_count", "_sum", "_created"),
    "SummaryMetricFamily": ("", "_count", "_sum", "_created"),
    "Info": ("_info",),
    "InfoMetricFamily": ("_info",),
    "Enum": ("",),
    "StateSetMetricFamily": ("",),
}


def _constructed_metrics(path: pathlib.Path) -> Iterator[tuple[str, str]]:
    """(constructor, name) of every prometheus_client metric the module constructs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imported: dict[str, str] = {}  # local name -> prometheus_client's name
    modules: set[str] = set()  # local names of prometheus_client modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prometheus_client"):
            for alias in node.names:
                imported[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("prometheus_client"):
                    modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in imported:
            constructor = imported[func.id]
        elif isinstance(func, ast.Attribute) and ast.unparse(func.value) in modules:
            constructor = func.attr
        else:
            continue
        if constructor not in SERIES_SUFFIXES:
            continue
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        name_node = node.args[0] if node.args else keywords.get("name")
        assert isinstance(name_node, ast.Constant) and isinstance(name_node.value, str), (
            f"{path}:{node.lineno}: a metric name that is not a literal cannot be checked"
        )
        parts = [
            str(value.value)
            for key in ("namespace", "subsystem")
            if isinstance(value := keywords.get(key), ast.Constant) and value.value
        ]
        yield constructor, "_".join([*parts, name_node.value])


def exported_series() -> frozenset[str]:
    """Every series name the product's code can expose."""
    names: set[str] = set()
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for constructor, name in _constructed_metrics(path):
                if constructor.startswith("Counter"):
                    name = name.removesuffix("_total")
                names.update(name + suffix for suffix in SERIES_SUFFIXES[constructor])
    return frozenset(names)


EXPORTED = exported_series()

PROMQL_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, labels, keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges and subqueries ($__rate_interval too)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", expr):
        if match.group(1) not in PROMQL_KEYWORDS:
            names.add(match.group(1))
    return names


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])  # a row's panels


def _dashboard(path: pathlib.Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a JSON object"
    return data


def _dashboard_exprs() -> Iterator[tuple[str, str]]:
    """(where, expr) of every query of every dashboard."""
    for path in DASHBOARDS:
        for panel in _panels(_dashboard(path)["panels"]):
            for target in panel.get("targets") or []:
                yield f"{path.name}: {panel.get('title')!r} {target.get('refId')}", target["expr"]


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _prometheus_datasource_uid() -> str:
    (uid,) = [
        source["uid"]
        for path in sorted(DATASOURCES.glob("*.yml"))
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]
        if source["type"] == "prometheus"
    ]
    return str(uid)


# --- what the product exports ------------------------------------------------------------


def test_the_exported_names_are_found_in_the_code() -> None:
    assert {
        "bookings_requests_decided_total",
        "bookings_decision_seconds_bucket",
        "bookings_queue_depth",
    } <= EXPORTED


def test_every_metric_object_of_the_product_is_among_them() -> None:
    """The parse against the imported modules: each metric object's series is found."""
    import api.metrics
    import models.metrics

    objects = [
        value
        for module in (models.metrics, api.metrics)
        for value in vars(module).values()
        if isinstance(value, MetricWrapperBase)
    ]
    assert len(objects) >= 5
    for metric in objects:
        for family in metric.describe():
            first = {"counter": "_total", "histogram": "_bucket"}.get(family.type, "")
            assert family.name + first in EXPORTED, family.name


def test_what_the_scrape_time_collectors_yield_is_among_them() -> None:
    """The gauges computed at scrape time, collected with their readings faked."""
    from api.metrics import QueueDepth, WebhookBacklog
    from api.probes import Known
    from models.metrics import ShardConsumers

    checks = SimpleNamespace(
        queue_depths=SimpleNamespace(last=Known({"rooms.0": 3}, time.monotonic())),
        webhook_backlog=SimpleNamespace(wait=lambda until: (1, 2)),
    )
    app = cast(Flask, SimpleNamespace(extensions={"bookings_checks": checks}))
    collectors: list[Collector] = [
        QueueDepth(app),
        WebhookBacklog(app),
        ShardConsumers(lambda: {"rooms.0": True}),
    ]
    samples = {s.name for c in collectors for family in c.collect() for s in family.samples}
    assert samples == {
        "bookings_queue_depth",
        "bookings_queue_depth_age_seconds",
        "bookings_webhook_backlog",
        "bookings_shard_consumer_up",
    }
    assert samples <= EXPORTED


def test_metric_names_reads_selectors_not_functions_labels_or_keywords() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, stage) (rate(a_bucket{stage="x",le!="1e3"}'
        "[$__rate_interval]))) > 1e3 and on (instance) b offset 5m or vector(0) unless c:rec"
        ' / ignoring(job) group_left(route) d{route=~"/v1/.+"}[5m:1m]'
    )
    assert metric_names(expr) == {"a_bucket", "b", "c:rec", "d"}


# --- the dashboards ----------------------------------------------------------------------


def test_there_is_a_dashboard() -> None:
    assert DASHBOARDS, "no dashboard in deploy/grafana/dashboards"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_panel_has_a_title_the_datasource_and_queries(path: pathlib.Path) -> None:
    dashboard = _dashboard(path)
    assert dashboard.get("uid") and dashboard.get("title")
    assert isinstance(dashboard.get("schemaVersion"), int)
    datasource = {"type": "prometheus", "uid": _prometheus_datasource_uid()}
    panels = list(_panels(dashboard["panels"]))
    assert panels, f"{path.name} has no panels"
    ids = [panel.get("id") for panel in panels]
    assert len(set(ids)) == len(ids), f"panel ids repeat: {ids}"
    for panel in panels:
        title = panel.get("title")
        assert isinstance(title, str) and title.strip(), f"a panel without a title: {panel}"
        if panel.get("type") == "row":
            continue
        assert panel.get("datasource") == datasource, f"{title}: {panel.get('datasource')}"
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, title
        targets = panel.get("targets")
        assert targets, f"{title}: no queries"
        ref_ids = [target.get("refId") for target in targets]
        assert all(ref_ids) and len(set(ref_ids)) == len(ref_ids), f"{title}: {ref_ids}"
        for target in targets:
            expr = target.get("expr")
            assert isinstance(expr, str) and expr.strip(), f"{title}: a query without expr"
            assert target.get("datasource", datasource) == datasource, title


def test_the_dashboards_use_only_exported_metrics() -> None:
    for where, expr in _dashboard_exprs():
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        unknown = names - EXPORTED - SCRAPE_SERIES
        assert not unknown, f"{where}: {sorted(unknown)} not exported by the product"


# --- the alerts --------------------------------------------------------------------------


def test_every_alert_says_how_bad_and_what_happened() -> None:
    rules = _rules()
    alerts = [rule["alert"] for rule in rules if "alert" in rule]
    assert alerts and len(set(alerts)) == len(alerts), alerts
    for rule in rules:
        if "alert" not in rule:
            continue
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_alerts_use_only_exported_metrics() -> None:
    rules = _rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, f"{rule.get('alert') or rule.get('record')}: no metric"
        unknown = names - EXPORTED - SCRAPE_SERIES - recorded
        assert not unknown, f"{rule.get('alert')}: {sorted(unknown)} not exported"


def test_every_alert_is_explained_in_the_operations_doc() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text.split("\n## Dashboards and alerts\n", 1)
    assert len(section) == 2, "docs/operations.md has no 'Dashboards and alerts' section"
    explained = section[1].split("\n## ", 1)[0]
    for rule in _rules():
        if "alert" in rule:
            assert f"`{rule['alert']}`" in explained, f"{rule['alert']} is not explained"


def test_prometheus_loads_these_rules() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    assert [PROMETHEUS_CONFIG.parent / path for path in config["rule_files"]] == [ALERTS]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["bookings-api"].get("metrics_path", "/metrics") == "/metrics"
    # Every scrape job an alert selects by name (or pattern) is one of these.
    for rule in _rules():
        for op, wanted in re.findall(r'job(=~?)"([^"]+)"', rule["expr"]):
            names = [wanted] if op == "=" else [j for j in jobs if re.fullmatch(wanted, j)]
            assert names and all(name in jobs for name in names), (rule["alert"], wanted)


# --- promtool ----------------------------------------------------------------------------

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not on PATH (Debian: apt-get install prometheus; .ci/run does)",
)


def _promtool(*args: str) -> None:
    done = subprocess.run(
        ["promtool", "check", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_the_alert_rules() -> None:
    _promtool("rules", str(ALERTS))


@needs_promtool
def test_promtool_accepts_the_config(tmp_path: pathlib.Path) -> None:
    """The whole check, rule files included: a copy whose token file exists here."""
    token = tmp_path / "metrics_token"
    token.write_text("token")
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    for rule_file in config["rule_files"]:
        shutil.copy(PROMETHEUS_CONFIG.parent / rule_file, tmp_path / rule_file)
    _promtool("config", str(tmp_path / "prometheus.yml"))


@needs_promtool
def test_promtool_parses_every_dashboard_query(tmp_path: pathlib.Path) -> None:
    """Each query as a recording rule, Grafana's interval variable as 5m: PromQL syntax."""
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$__rate_interval", "5m")}
        for n, (_, expr) in enumerate(_dashboard_exprs())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    _promtool("rules", str(path))
