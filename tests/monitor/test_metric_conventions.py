"""/metrics by Prometheus' conventions (issue 21: latencies were in milliseconds and a count since
start was a gauge), and the alert rules and the Grafana dashboard in deploy/ name only series the
BFF really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bff.demo import DemoStack
from tests.support import GraphQLClient, Sim, missing, registered

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "huicai-bff.json"
PROMETHEUS_OWN = {"up"}  # series Prometheus makes itself
# PromQL words that look like series names: functions, aggregations, keywords, label names.
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "irate", "histogram_quantile",
    "time", "absent", "and", "or", "unless", "on", "ignoring", "le", "bool", "offset", "delta", "deriv",
}
CONVENTIONAL = {  # name -> type, as Prometheus' text parser reports them
    "bff_request_duration_seconds": "histogram",
    "bff_erp_duration_seconds": "histogram",
    "bff_errors": "counter",
    "bff_fallback_lookups": "counter",
    "bff_admission": "gauge",
    "bff_admission_rejected": "counter",
    "bff_erp_anomalies": "counter",
    "bff_outbox_depth": "gauge",
    "bff_outbox_oldest_age_seconds": "gauge",
    "bff_outbox_messages": "counter",
    "bff_watcher_cycle_duration_seconds": "histogram",
    "bff_watcher_changes": "counter",
    "bff_watcher_customers": "gauge",
    "bff_watcher_partitions_held": "gauge",
    "bff_watcher_last_cycle_timestamp_seconds": "gauge",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "python_gc_collections": "counter",
}


@pytest.fixture
async def exported(gql: GraphQLClient, http: httpx.AsyncClient, sim: Sim, stack: DemoStack) -> dict[str, str]:
    """Every sample name on /metrics (-> its family's type) once requests, an odd ERP value, an
    ERP outage, a watcher cycle and the outbox have had their turn."""
    items = (await gql(registered("Orders"), {"page": 1, "pageSize": 2}))["data"]["orders"]["items"]
    record = stack.erp_sim.forms[100001][items[0]["id"]]
    kept, record["remark"] = record["remark"], {"unforeseen": ["shape"]}  # counted once it is read
    try:
        await gql("query($id: ID!) { order(id: $id) { id remark } }", {"id": items[0]["id"]})
    finally:
        record["remark"] = kept
    await sim.faults(outage=True)
    await gql('query ConventionsMiss { orders(keyword: "never-seen-conventions") { total } }')  # an error, a fallback miss
    await sim.reset_faults()
    await stack.services.notify.watcher.run_cycle()
    await stack.services.notify.outbox.backlog()
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    return {s.name: family.type for family in text_string_to_metric_families(answer.text) for s in family.samples} | {
        family.name: family.type for family in text_string_to_metric_families(answer.text)}


async def test_metrics_follow_prometheus_conventions(exported: dict[str, str]) -> None:
    missing_families = {name: kind for name, kind in CONVENTIONAL.items() if exported.get(name) != kind}
    assert not missing_families, (missing_families, sorted(n for n in exported if n.startswith("bff_")))
    assert not [n for n in exported if re.search(r"milli|_ms(_|$)", n)], "durations are in seconds"
    counters = {n for n, kind in exported.items() if kind == "counter" and n.startswith("bff_")}
    assert all(f"{n}_total" in exported for n in counters if not n.endswith(("_total", "_created")))
    # A cumulative count is a counter, never a gauge sample (admission's refusals were a gauge state).
    assert "bff_admission_rejected_total" in exported


def _series(expression: str) -> set[str]:
    """The series names an expression reads (strings, label matchers and durations removed)."""
    expression = re.sub(r'"[^"]*"', "", expression)
    expression = re.sub(r"\{[^}]*\}", "", expression)
    expression = re.sub(r"\[[^\]]*\]", "", expression)
    expression = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expression)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", expression))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+(\.\d+)?(e\d+)?", w)}


def _rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def _dashboard_expressions() -> dict[str, str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return {f"{panel['title']} {target['refId']}": target["expr"]
            for panel in dashboard["panels"] for target in panel.get("targets", [])}


async def test_alert_rules_and_dashboard_name_exported_series(exported: dict[str, str]) -> None:
    expressions = _rule_expressions() | _dashboard_expressions()
    assert len(_rule_expressions()) >= 10 and len(_dashboard_expressions()) >= 15
    unknown = {where: sorted(_series(e) - set(exported) - PROMETHEUS_OWN) for where, e in expressions.items()}
    assert not {k: v for k, v in unknown.items() if v}, unknown
    read = set().union(*(_series(e) for e in expressions.values()))
    for family in ("bff_watcher_last_cycle_timestamp_seconds", "bff_outbox_oldest_age_seconds",
                   "bff_outbox_messages_total", "bff_erp_probe_state", "bff_request_duration_seconds_bucket"):
        assert family in read, f"nothing watches {family}"


def test_every_alert_has_a_runbook_entry() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    for rule in (r for g in groups for r in g["rules"]):
        assert rule["annotations"]["runbook"] == f"docs/deploy.md#{rule['alert'].lower()}"
        assert re.search(rf"^#+ `?{rule['alert']}`?\s*$", guide, flags=re.M), f"docs/deploy.md: no section {rule['alert']}"


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if not promtool:
        missing("promtool (apt-get install -y prometheus)")
    for command in (["check", "rules", str(RULES)], ["test", "rules", str(RULES.with_name("alerts.test.yml"))]):
        result = subprocess.run([promtool, *command], capture_output=True, text=True, timeout=60, cwd=RULES.parent)
        assert result.returncode == 0, result.stdout + result.stderr
