"""The chart's dashboards are what tools/dashboards renders, so the JSON is never edited by hand (issue 14).

What the panels query is checked on the files, as before: tests/chart/test_dashboards.py (selectors,
filters, ids) and tests/e2e/test_metrics_exported.py (every metric in a real scrape).
"""

from __future__ import annotations

import difflib
import json
import re

from tests.fixtures.dashboards import alert_rules
from tools.dashboards import DASHBOARDS, ingestion, rendered

STALE = "run `make dashboards` (tools/dashboards is the source; the chart's JSON is written from it)"


def test_the_chart_ships_exactly_the_generated_dashboards() -> None:
    expected = rendered()
    on_disk = {path.name: path.read_text() for path in sorted(DASHBOARDS.glob("*.json"))}
    assert sorted(on_disk) == sorted(expected), f"dashboard files differ from the generated set: {STALE}"
    for name, text in expected.items():
        if on_disk[name] != text:
            old, new = on_disk[name].splitlines(), text.splitlines()
            diff = difflib.unified_diff(old, new, f"chart {name}", f"generated {name}", lineterm="")
            shown = "\n".join(list(diff)[:40])
            raise AssertionError(f"{DASHBOARDS / name} is stale: {STALE}\n{shown}")


def test_rendering_is_deterministic() -> None:
    assert rendered() == rendered()


def test_every_file_is_plain_json_with_a_final_newline() -> None:
    for name, text in rendered().items():
        assert text.endswith("}\n"), name
        assert json.loads(text)["uid"] == f"games-{name.removesuffix('.json')}"


def test_the_quarantine_lines_are_the_alert_and_the_rejection_limit() -> None:
    (alert,) = [rule for rule in alert_rules() if rule.get("alert") == "IngestionQuarantineHigh"]
    above = re.search(r">\s*([\d.]+)\s*$", alert["expr"])
    assert above is not None, alert["expr"]
    assert float(above.group(1)) == ingestion.QUARANTINE_ALERT_RATIO
    panels = json.loads(rendered()["ingestion.json"])["panels"]
    panel = next(p for p in panels if p["title"] == "Quarantine share per file")
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [step["value"] for step in steps] == [
        None,
        ingestion.QUARANTINE_ALERT_RATIO,
        ingestion.MAX_QUARANTINE_RATIO,
    ]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"
