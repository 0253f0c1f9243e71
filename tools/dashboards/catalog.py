"""The catalog's dashboard: only the rows every service has, since its callers (the gateway, ingestion)
show what the catalog's answers mean to them on their own dashboards.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from tools.dashboards.common import Metrics, board
from tools.dashboards.service import grpc_rows, saturation_rows

m = Metrics("catalog")


def build() -> dashboard.Dashboard:
    """The catalog's dashboard: calls (ids 1-9), saturation (10-14)."""
    dash = board(
        "catalog",
        "The games database service: calls (from the gateway and ingestion), errors, latency, saturation.",
    )
    grpc_rows(dash, m, 1)
    return saturation_rows(dash, m, 10)
