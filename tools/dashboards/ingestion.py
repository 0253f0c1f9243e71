"""Ingestion's dashboard: S3 deliveries into catalog imports first (what its owners are asked about),
then the gRPC rows every service has.

The imports row ends with what became of each file: the rejections by cause, and the share of each
file's records quarantined, against the shares that raise an alert and that get a file rejected. Panel
ids are fixed (see tools.dashboards.service): 22 and 23 came after the saturation row's 17-21.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, dashboard
from grafana_foundation_sdk.models import common as cm

from ingestion.settings import RunSettings
from tools.dashboards.common import Metrics, bars, board, graph, query, row, single, steps
from tools.dashboards.service import grpc_rows, saturation_rows

m = Metrics("ingestion")
HOUR = 3600
# IngestionQuarantineHigh warns above this share of a file's records quarantined (files/alerts.yaml)...
QUARANTINE_ALERT_RATIO = 0.01
# ...and above INGESTION_MAX_QUARANTINE_RATIO (its default here), the file is rejected.
MAX_QUARANTINE_RATIO: float = RunSettings.model_fields["max_quarantine_ratio"].default


def _imports(dash: dashboard.Dashboard) -> None:
    """Ids 1-7, 22, 23: freshness, what runs did with files and records, runs, events, rejections."""
    dash.with_row(row(1, "Imports"))
    last_success = m("ingestion_last_success_timestamp_seconds")
    dash.with_panel(
        single(
            2,
            "Since the last successful import",
            "From the ledger, so CronJob runs count; IngestionStale fires past 26 h. 'never' means no run "
            "has succeeded yet.",
            "dtdurations",
            query(f"time() - max({last_success} > 0)", "age"),
            height=6,
        )
        .no_value("never")
        .thresholds(steps(("green", None), ("orange", 25 * HOUR), ("red", 26 * HOUR)))
    )
    dash.with_panel(
        bars(
            3,
            "Files by outcome",
            "Files handled by runs of the ingestion service (RunIngestion, S3 events). CronJob runs are "
            "separate processes: see them with `gamectl ingest runs`.",
            "short",
            query(
                f"sum by (outcome) (increase({m('ingestion_files_total')}[$__rate_interval]))", "{{outcome}}"
            ),
            width=9,
            height=6,
        ).min(0)
    )
    records = m("ingestion_records_total")
    dash.with_panel(
        bars(
            4,
            "Records by outcome",
            "Records of imported files: imported, repaired (and imported), quarantined, duplicate (merged). "
            "Same scope as files.",
            "short",
            query(f"sum by (outcome) (increase({records}[$__rate_interval]))", "{{outcome}}"),
            width=9,
            height=6,
        ).min(0)
    )
    run_sum, run_count = m("ingestion_run_duration_seconds_sum"), m("ingestion_run_duration_seconds_count")
    run_buckets = m("ingestion_run_duration_seconds_bucket")
    dash.with_panel(
        graph(
            5,
            "Run duration",
            "Mean and p99 of the service's runs over the last hour.",
            "s",
            query(f"sum(rate({run_sum}[1h])) / sum(rate({run_count}[1h]))", "mean"),
            query(f"histogram_quantile(0.99, sum by (le) (rate({run_buckets}[1h])))", "p99"),
        ).min(0)
    )
    messages = m("ingestion_sqs_messages_total")
    dash.with_panel(
        graph(
            6,
            "S3 event messages by outcome",
            "SQS messages taken: handled, retried, malformed, test_event, ignored.",
            "ops",
            query(f"sum by (outcome) (rate({messages}[$__rate_interval]))", "{{outcome}}"),
        )
    )
    webhooks = m("ingestion_alerts_total")
    dash.with_panel(
        graph(
            7,
            "Run-failure webhooks",
            "Alerts posted to INGESTION_ALERT_WEBHOOK_URL: sent, failed.",
            "short",
            query(f"sum by (outcome) (increase({webhooks}[$__rate_interval]))", "{{outcome}}"),
        ).min(0)
    )
    _rejections(dash)


def _rejections(dash: dashboard.Dashboard) -> None:
    """Ids 22, 23: files rejected by cause, and how near each file came to being rejected as quarantined."""
    rejected = m("ingestion_files_rejected_total")
    dash.with_panel(
        bars(
            22,
            "Rejected files",
            "File versions rejected by runs of the ingestion service, by cause: quarantined (too large a "
            "share of bad records), unreadable, refused (by the catalog), gave_up (too many failed runs). "
            "Same scope as files; IngestionFileRejected reads the ledger, and `gamectl ingest files` lists "
            "each rejected file with its reason.",
            "short",
            query(f"sum by (cause) (increase({rejected}[$__rate_interval]))", "{{cause}}"),
            width=12,
        ).min(0)
    )
    ratio = m("ingestion_file_quarantine_ratio")
    dash.with_panel(
        graph(
            23,
            "Quarantine share per file",
            "From the ledger, so CronJob runs count: the quarantined share of the records read from the "
            "newest imported or rejected version of each delivered file name processed in the last 7 days. "
            "IngestionQuarantineHigh fires above 1 % (orange line); above INGESTION_MAX_QUARANTINE_RATIO, "
            "5 % by default (red line), the file is rejected.",
            "percentunit",
            query(f"max by (file) ({ratio})", "{{file}}"),
            width=12,
        )
        .min(0)
        .axis_soft_max(2 * MAX_QUARANTINE_RATIO)
        .thresholds(steps(("green", None), ("orange", QUARANTINE_ALERT_RATIO), ("red", MAX_QUARANTINE_RATIO)))
        .thresholds_style(common.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.DASHED))
    )


def build() -> dashboard.Dashboard:
    """Ingestion's dashboard: imports (ids 1-7, 22, 23), calls (8-16), saturation (17-21)."""
    dash = board(
        "ingestion",
        "S3 deliveries into catalog imports: freshness, files, records, runs, events; and its gRPC API.",
    )
    _imports(dash)
    grpc_rows(dash, m, 8)
    return saturation_rows(dash, m, 17)
