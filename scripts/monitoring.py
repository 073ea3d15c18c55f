#!/usr/bin/env python3
"""deploy/monitoring (alert rules, their tests, the Grafana dashboard), the Kubernetes
component built from it, and their agreement with the metrics the service exports.

    monitoring.py generate
        Writes components/monitoring/prometheusrule.yaml (the rules file wrapped in a
        PrometheusRule) and the component's copy of the dashboard. deploy/monitoring is
        the one source: kustomize reads files only below a kustomization's folder.
    monitoring.py check [RENDERED.yaml]
        The generated files are up to date; every alert has a severity, a summary and a
        description, and unit tests where it fires and where it does not; every metric
        the rules and the dashboard name is one src/telemetry/metrics exports, and every
        exported metric is on the dashboard or listed in NOT_ON_DASHBOARD with a reason;
        the dashboard's panels have queries and use only variables it defines. With a
        rendered overlay that includes the component: its PrometheusRule holds exactly
        the rules file's groups and its dashboard ConfigMap exactly the dashboard.
    monitoring.py self-test [RENDERED.yaml]
        Breaks the inputs one way at a time and proves that each check fails.

promtool (Debian's prometheus package) checks and unit-tests the rules themselves:
scripts/check-deploy.sh runs it. Needs PyYAML.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "deploy/monitoring"
RULES = SOURCE / "virtplane-alerts.yaml"
TESTS = SOURCE / "virtplane-alerts.test.yaml"
DASHBOARD = SOURCE / "virtplane-dashboard.json"
COMPONENT = REPO / "deploy/kubernetes/components/monitoring"
METRICS_SRC = REPO / "src/telemetry/metrics"
SEVERITIES = {"critical", "warning", "info"}
# Grafana's own variables, set by Grafana rather than by the dashboard.
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}
METRIC = re.compile(r"\bvirtplane_[a-z0-9_]+")

# Exported, but deliberately not graphed.
NOT_ON_DASHBOARD = {
    "virtplane_libvirt_connect_attempts_total": "attempts = reconnects + failures + 1; both are graphed",
    "virtplane_domain_memory_usable_bytes": "only guests whose balloon driver reports statistics have it",
}

RULE_HEADER = """\
# Generated from deploy/monitoring/virtplane-alerts.yaml by `python3 scripts/monitoring.py
# generate`: edit that file and regenerate (make check-deploy fails on a stale copy).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: virtplane
  # Components add to the overlay, outside the base's namespace setting.
  namespace: virtplane-system
  labels:
    app.kubernetes.io/name: virtplane
    app.kubernetes.io/part-of: virtplane
spec:
"""


def generated() -> dict[Path, str]:
    """Each generated file and the text it must have."""
    rules = RULES.read_text()
    start = rules.index("\ngroups:") + 1
    body = "".join("  " + line if line.strip() else line for line in rules[start:].splitlines(True))
    return {
        COMPONENT / "prometheusrule.yaml": RULE_HEADER + body,
        COMPONENT / "virtplane-dashboard.json": DASHBOARD.read_text(),
    }


def exported_metrics() -> set[str]:
    return {m for f in METRICS_SRC.glob("*.rs") for m in METRIC.findall(f.read_text())}


def alerts_of(rules: dict) -> list[dict]:
    return [r for g in rules.get("groups", []) for r in g.get("rules", []) if "alert" in r]


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, query) for every query of every panel, rows' panels included."""
    out = []
    for panel in dashboard.get("panels", []):
        for p in [panel, *panel.get("panels", [])]:
            out.extend((p.get("title", "?"), t.get("expr", "")) for t in p.get("targets", []))
    return out


# --- checks: each returns its problems, none when all is well --------------------------


def check_alerts(rules: dict) -> list[str]:
    problems = []
    alerts = alerts_of(rules)
    if not alerts:
        problems.append("no alerts in the rules file")
    for a in alerts:
        name = a["alert"]
        if a.get("labels", {}).get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity label not one of {sorted(SEVERITIES)}")
        for key in ("summary", "description"):
            if not str(a.get("annotations", {}).get(key, "")).strip():
                problems.append(f"{name}: no {key} annotation")
    return problems


def check_tests(rules: dict, tests: dict) -> list[str]:
    fires, quiet = set(), set()
    for case in tests.get("tests", []):
        for t in case.get("alert_rule_test", []):
            (fires if t.get("exp_alerts") else quiet).add(t.get("alertname"))
    problems = []
    for name in (a["alert"] for a in alerts_of(rules)):
        if name not in fires:
            problems.append(f"{name}: no unit test where it fires")
        if name not in quiet:
            problems.append(f"{name}: no unit test where it must not fire")
    return problems


def check_metrics(rules: dict, dashboard: dict, exported: set[str]) -> list[str]:
    problems = []
    used_by_rules = {m for a in alerts_of(rules) for m in METRIC.findall(a.get("expr", ""))}
    graphed = {m for _, q in dashboard_queries(dashboard) for m in METRIC.findall(q)}
    for var in dashboard.get("templating", {}).get("list", []):
        graphed |= set(METRIC.findall(var.get("definition", "")))
    for where, names in (("the rules", used_by_rules), ("the dashboard", graphed)):
        for m in sorted(names - exported):
            problems.append(f"{m}, used by {where}, is not exported by src/telemetry/metrics")
    # A histogram is graphed through its _bucket series.
    families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in exported}
    graphed_families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in graphed}
    for m in sorted(families - graphed_families - set(NOT_ON_DASHBOARD)):
        problems.append(f"{m} is exported but not on the dashboard (add a panel or list it in NOT_ON_DASHBOARD)")
    return problems


def check_dashboard(dashboard: dict) -> list[str]:
    problems = []
    defined = {v.get("name") for v in dashboard.get("templating", {}).get("list", [])} | BUILTIN_VARIABLES
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append("panel ids are not unique")
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        if not panel.get("targets"):
            problems.append(f"panel {title!r} has no queries")
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel {title!r} does not use the $datasource variable")
    for title, query in dashboard_queries(dashboard):
        if not query.strip():
            problems.append(f"panel {title!r} has an empty query")
        for var in re.findall(r"\$\{?(\w+)", query):
            if var not in defined:
                problems.append(f"panel {title!r} uses ${var}, which the dashboard does not define")
    return problems


def check_fresh(expected: dict[Path, str], actual: Callable[[Path], str | None]) -> list[str]:
    return [
        f"{path.relative_to(REPO)} is stale: run `python3 scripts/monitoring.py generate`"
        for path, text in expected.items()
        if actual(path) != text
    ]


def check_rendered(docs: list[dict], rules: dict, dashboard: dict) -> list[str]:
    problems = []
    prom = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(prom) != 1 or prom[0].get("apiVersion") != "monitoring.coreos.com/v1":
        problems.append(f"{len(prom)} PrometheusRule objects (monitoring.coreos.com/v1), expected 1")
    elif prom[0].get("spec", {}).get("groups") != rules.get("groups"):
        problems.append("the PrometheusRule's groups differ from deploy/monitoring/virtplane-alerts.yaml")
    maps = [
        d
        for d in docs
        if d.get("kind") == "ConfigMap"
        and d.get("metadata", {}).get("labels", {}).get("grafana_dashboard") == "1"
    ]
    if len(maps) != 1:
        problems.append(f"{len(maps)} ConfigMaps labelled grafana_dashboard: \"1\", expected 1")
    else:
        data = maps[0].get("data", {})
        texts = list(data.values())
        if len(texts) != 1 or json.loads(texts[0]) != dashboard:
            problems.append("the dashboard ConfigMap differs from deploy/monitoring/virtplane-dashboard.json")
    return problems


# --- commands ---------------------------------------------------------------------------


def load_inputs() -> tuple[dict, dict, dict]:
    return (
        yaml.safe_load(RULES.read_text()),
        yaml.safe_load(TESTS.read_text()),
        json.loads(DASHBOARD.read_text()),
    )


def read_or_none(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def all_checks(rendered: Path | None) -> dict[str, list[str]]:
    rules, tests, dashboard = load_inputs()
    checks = {
        "generated files": check_fresh(generated(), read_or_none),
        "alerts": check_alerts(rules),
        "unit tests": check_tests(rules, tests),
        "metric names": check_metrics(rules, dashboard, exported_metrics()),
        "dashboard": check_dashboard(dashboard),
    }
    if rendered is not None:
        docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
        checks["rendered component"] = check_rendered(docs, rules, dashboard)
    return checks


def cmd_generate() -> int:
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


def cmd_check(rendered: Path | None) -> int:
    failed = False
    for name, problems in all_checks(rendered).items():
        if problems:
            failed = True
            for p in problems:
                print(f"  FAIL {name}: {p}")
        else:
            print(f"  ok   {name}")
    return 1 if failed else 0


def cmd_self_test(rendered: Path | None) -> int:
    rules, tests, dashboard = load_inputs()
    exported = exported_metrics()
    first = alerts_of(rules)[0]["alert"]

    def without_severity(r: dict) -> dict:
        alerts_of(r)[0]["labels"].pop("severity")
        return r

    def without_quiet_case(t: dict) -> dict:
        for case in t["tests"]:
            case["alert_rule_test"] = [
                x for x in case.get("alert_rule_test", []) if x.get("alertname") != first or x.get("exp_alerts")
            ]
        return t

    def unknown_metric(d: dict) -> dict:
        d["panels"][1]["targets"][0]["expr"] = "virtplane_no_such_metric"
        return d

    def undefined_variable(d: dict) -> dict:
        d["panels"][1]["targets"][0]["expr"] += ' + on() vector($nowhere)'
        return d

    cases: list[tuple[str, Callable[[], list[str]]]] = [
        ("an alert without severity", lambda: check_alerts(without_severity(copy.deepcopy(rules)))),
        ("an alert without a not-firing test", lambda: check_tests(rules, without_quiet_case(copy.deepcopy(tests)))),
        ("a metric the service does not export", lambda: check_metrics(rules, unknown_metric(copy.deepcopy(dashboard)), exported)),
        ("an exported metric nobody graphs", lambda: check_metrics(rules, dashboard, exported | {"virtplane_new_total"})),
        ("an undefined dashboard variable", lambda: check_dashboard(undefined_variable(copy.deepcopy(dashboard)))),
        ("a stale generated file", lambda: check_fresh(generated(), lambda p: "stale\n")),
    ]
    if rendered is not None:
        docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]

        def edited_rule() -> list[str]:
            broken = copy.deepcopy(docs)
            rule = next(d for d in broken if d.get("kind") == "PrometheusRule")
            rule["spec"]["groups"][0]["rules"][0]["expr"] = "vector(1)"
            return check_rendered(broken, rules, dashboard)

        def unlabelled_dashboard() -> list[str]:
            broken = copy.deepcopy(docs)
            for d in broken:
                if d.get("kind") == "ConfigMap":
                    d.get("metadata", {}).get("labels", {}).pop("grafana_dashboard", None)
            return check_rendered(broken, rules, dashboard)

        cases += [
            ("a PrometheusRule edited by hand", edited_rule),
            ("a dashboard ConfigMap without its label", unlabelled_dashboard),
        ]
    failed = False
    for name, run in cases:
        problems = run()
        if problems:
            print(f"  ok   self-test: {name} -> fails ({problems[0][:90]})")
        else:
            print(f"  FAIL self-test: {name} was not caught")
            failed = True
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("generate", "check", "self-test") or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    rendered = Path(argv[1]) if len(argv) == 2 else None
    if argv[0] == "generate":
        return cmd_generate()
    if argv[0] == "check":
        return cmd_check(rendered)
    return cmd_self_test(rendered)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
