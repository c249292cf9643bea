"""deploy/prometheus checked by promtool (Debian's `prometheus` package, installed by
.ci/run): the scrape config and the rules are valid, the rules' unit tests pass, and every
service metric they and the Grafana dashboard name is one the services expose."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "veteran-services.json"
PROMTOOL = shutil.which("promtool")
# Only on a developer's machine without it; CI installs it and must run these.
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"),
    reason="promtool not installed (apt-get install -y prometheus; .ci/run does)",
)
METRIC = re.compile(r"\b(vetsvc_[a-z_]+)")


def promtool(*args):
    assert PROMTOOL, "promtool is not installed: apt-get install -y prometheus"
    done = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_promtool
def test_the_scrape_config_is_valid():
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")


@needs_promtool
def test_the_rules_are_valid():
    assert "SUCCESS: 12 rules found" in promtool("check", "rules", "rules.yaml")


@needs_promtool
def test_the_rules_unit_tests_pass():
    assert "SUCCESS" in promtool("test", "rules", "rules_test.yaml")


def test_every_alert_has_a_unit_test():
    rules = yaml.safe_load((PROMETHEUS / "rules.yaml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((PROMETHEUS / "rules_test.yaml").read_text())["tests"]
    tested = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == tested


def exposed_families():
    """The vetsvc_ families shared.metrics writes, from its docstring's list (the unit and
    integration tests read each one back from /metrics)."""
    from shared import metrics

    names = set(METRIC.findall(metrics.__doc__))
    return names | {
        n + suffix
        for n in names
        for suffix in ("_bucket", "_count", "_sum")
        if not n.endswith("_total")
    }


def test_the_rules_and_the_dashboard_name_only_metrics_the_services_expose():
    named = set(METRIC.findall((PROMETHEUS / "rules.yaml").read_text()))
    named |= set(METRIC.findall(DASHBOARD.read_text()))
    assert named and named <= exposed_families(), named - exposed_families()


def test_the_dashboard_has_rate_errors_latency_backlog_and_dead_letters_per_service():
    dashboard = json.loads(DASHBOARD.read_text())
    [service] = [v for v in dashboard["templating"]["list"] if v["name"] == "service"]
    assert service["multi"] and service["includeAll"]
    titles = [panel["title"] for panel in dashboard["panels"] if panel["type"] != "row"]
    for word in ("rate", "errors", "latency", "backlog", "dead letters"):
        assert [t for t in titles if word in t.lower()], word
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "vetsvc_" in target["expr"]:
                assert 'service=~"$service"' in target["expr"], target["expr"]
