"""The chart's Grafana dashboards as code (issue 14), built with grafana-foundation-sdk's typed builders.

A panel is reviewed as Python and its PromQL is checked like any other query (tests/chart,
tests/e2e/test_metrics_exported.py read the files this writes). `make dashboards` writes
charts/games-platform/dashboards/<component>.json; tests/monitoring/test_dashboards_generated.py fails
when a file is not what this package renders, so nobody edits the JSON by hand.
"""

from __future__ import annotations

from pathlib import Path

from tools.dashboards import catalog, gateway, ingestion
from tools.dashboards.common import render

DASHBOARDS = Path(__file__).resolve().parents[2] / "charts" / "games-platform" / "dashboards"


def rendered() -> dict[str, str]:
    """File name → the JSON text the chart should ship, for every dashboard."""
    return {
        "gateway.json": render(gateway.build()),
        "catalog.json": render(catalog.build()),
        "ingestion.json": render(ingestion.build()),
    }
