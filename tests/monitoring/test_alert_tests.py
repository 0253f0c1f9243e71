"""The promtool unit tests of the alert rules cover every alert, checked without promtool.

promtool itself runs them in `make check-monitoring`; `make test` must pass where it is not installed. A test
that names an alert the rules no longer have passes in promtool whatever it expects, so names must match.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "charts" / "games-platform" / "files" / "alerts.yaml"
ALERT_TESTS = Path(__file__).with_name("alerts_test.yaml")


def alert_names() -> set[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def alert_rule_tests() -> list[dict[str, Any]]:
    return [
        case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]
    ]


def test_the_tests_load_the_charts_rules_file() -> None:
    rule_files = yaml.safe_load(ALERT_TESTS.read_text())["rule_files"]
    assert [(ALERT_TESTS.parent / path).resolve() for path in rule_files] == [ALERTS.resolve()]


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    firing: dict[str, int] = defaultdict(int)
    silent: dict[str, int] = defaultdict(int)
    for case in alert_rule_tests():
        (firing if case.get("exp_alerts") else silent)[case["alertname"]] += 1
    names = alert_names()
    assert not (set(firing) | set(silent)) - names, "tests name alerts the rules do not have"
    never_fire, never_silent = sorted(names - set(firing)), sorted(names - set(silent))
    assert not never_fire, f"alerts without a case where they fire: {never_fire}"
    assert not never_silent, f"alerts without a case where they stay silent: {never_silent}"


def test_every_firing_case_states_what_the_sre_receives() -> None:
    for case in alert_rule_tests():
        for alert in case.get("exp_alerts") or []:
            where = f"{case['alertname']} at {case['eval_time']}"
            assert {"severity", "namespace"} <= set(alert.get("exp_labels", {})), where
            assert set(alert.get("exp_annotations", {})) == {"summary", "description", "runbook_url"}, where
