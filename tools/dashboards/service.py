"""The two rows every service shows: its gRPC calls (traffic, errors, latency) and its saturation.

The three dashboards show the same panels with the same queries, each on its own component, so a fix to
one query reaches all three. Panel ids are given, not counted: `viewPanel=<id>` links must keep working
when a panel is added, so a new panel takes a new id and the others keep theirs.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, dashboard
from grafana_foundation_sdk.models import dashboard as dm

from tools.dashboards.common import STREAMS, Metrics, colour, graph, query, row, single, steps

# GrpcErrorRatioHigh counts these codes only: the others are the caller's mistakes.
SERVER_ERRORS = 'grpc_code=~"UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS"'


def grpc_rows(board: dashboard.Dashboard, m: Metrics, first_id: int) -> dashboard.Dashboard:
    """The gRPC row: headline figures, then rates, errors, latency (with exemplars) and calls in flight.

    Ids `first_id` (the row) to `first_id + 8`.
    """
    handled = m("grpc_server_handled_total")
    unary = m("grpc_server_handled_total", STREAMS)
    server_errors = m("grpc_server_handled_total", SERVER_ERRORS, STREAMS)
    not_ok = m("grpc_server_handled_total", 'grpc_code!="OK"')
    buckets = m("grpc_server_handling_seconds_bucket", STREAMS)
    i = first_id
    board.with_row(row(i, "gRPC requests, errors and latency"))
    board.with_panel(
        single(
            i + 1,
            "Requests per second",
            "All calls this component served, every method.",
            "reqps",
            query(f"sum(rate({handled}[$__rate_interval]))", "rps"),
        ).color_scheme(colour(dm.FieldColorModeId.FIXED, "blue"))
    )
    board.with_panel(
        single(
            i + 2,
            "Server-error ratio (alert above 5 %)",
            "Calls that ended UNKNOWN, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED, DATA_LOSS over all calls, "
            "streams excluded: what the GrpcErrorRatioHigh alert measures.",
            "percentunit",
            # No error series at all is 0 %, not "No data": `or vector(0)` gives the sum a value.
            query(f"(sum(rate({server_errors}[5m])) or vector(0)) / sum(rate({unary}[5m]))", "ratio"),
        ).thresholds(steps(("green", None), ("orange", 0.01), ("red", 0.05)))
    )
    board.with_panel(
        single(
            i + 3,
            "p99 latency, unary calls",
            "Over every unary method of this component, 5 minutes.",
            "s",
            query(f"histogram_quantile(0.99, sum by (le) (rate({buckets}[5m])))", "p99"),
        ).thresholds(steps(("green", None), ("orange", 0.5), ("red", 1)))
    )
    board.with_panel(
        single(
            i + 4,
            "Targets up",
            "Scrape targets (pods) of this component Prometheus reaches.",
            "short",
            query(f"sum({m('up')})", "up"),
        ).thresholds(steps(("red", None), ("green", 1)))
    )
    board.with_panel(
        graph(
            i + 5,
            "Requests per second by method",
            "Completed calls, any status.",
            "reqps",
            query(f"sum by (grpc_method) (rate({handled}[$__rate_interval]))", "{{grpc_method}}"),
            width=12,
        )
    )
    board.with_panel(
        graph(
            i + 6,
            "Error ratio by method and code",
            "Share of each method's calls that ended with each non-OK code. Client mistakes "
            "(INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED...) show here too; the "
            "alert counts only server errors.",
            "percentunit",
            query(
                f"sum by (grpc_method, grpc_code) (rate({not_ok}[$__rate_interval])) / ignoring (grpc_code)"
                f" group_left sum by (grpc_method) (rate({handled}[$__rate_interval]))",
                "{{grpc_method}} {{grpc_code}}",
            ),
            width=12,
        ).min(0)
    )
    board.with_panel(
        graph(
            i + 7,
            "Latency by method (p50, p95, p99)",
            "From grpc_server_handling_seconds; long streams (watches, reflection) left out. The dots are "
            "exemplars: hover one and follow its 'Trace:' link to open that call's trace in Tempo.",
            "s",
            *(
                query(
                    f"histogram_quantile({q}, sum by (grpc_method, le) (rate({buckets}[$__rate_interval])))",
                    f"{name} {{{{grpc_method}}}}",
                    exemplar=True,
                )
                for q, name in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99"))
            ),
            width=24,
            height=10,
        )
    )
    return board.with_panel(
        graph(
            i + 8,
            "In-flight calls by method",
            "Calls being handled now; a rise with flat traffic means something downstream is slow.",
            "short",
            query(f"sum by (grpc_method) ({m('grpc_server_in_flight')})", "{{grpc_method}}"),
            width=12,
        )
    )


def saturation_rows(board: dashboard.Dashboard, m: Metrics, first_id: int) -> dashboard.Dashboard:
    """The saturation row: CPU, memory, file descriptors per pod, and the serving certificate's expiry.

    Ids `first_id` (the row) to `first_id + 4`.
    """
    i = first_id
    board.with_row(row(i, "Saturation"))
    board.with_panel(
        graph(
            i + 1,
            "CPU per pod (cores)",
            "process_cpu_seconds_total rate: 1 = one full core.",
            "short",
            query(f"sum by (pod) (rate({m('process_cpu_seconds_total')}[$__rate_interval]))", "{{pod}}"),
        ).min(0)
    )
    board.with_panel(
        graph(
            i + 2,
            "Resident memory per pod",
            "process_resident_memory_bytes.",
            "bytes",
            query(f"sum by (pod) ({m('process_resident_memory_bytes')})", "{{pod}}"),
        ).min(0)
    )
    board.with_panel(
        graph(
            i + 3,
            "Open file descriptors per pod",
            "Sockets and files held; the dashed line is the limit.",
            "short",
            query(f"sum by (pod) ({m('process_open_fds')})", "{{pod}}"),
            query(f"max({m('process_max_fds')})", "limit"),
        )
        .min(0)
        .override_by_name(
            "limit",
            [
                dm.DynamicConfigValue(
                    id_val="custom.lineStyle", value=common.LineStyle().fill("dash").dash([10, 10]).build()
                ),
                dm.DynamicConfigValue(id_val="color", value=colour(dm.FieldColorModeId.FIXED, "red").build()),
            ],
        )
    )
    expiry = m("tls_certificate_expiry_timestamp_seconds")
    return board.with_panel(
        single(
            i + 4,
            "Serving certificate expires in",
            "Soonest notAfter of the certificates the pods serve (re-read on rotation); "
            "CertificateExpiringSoon fires under 7 days.",
            "dtdurations",
            query(f"min({expiry} > 0) - time()", "expires in"),
        ).thresholds(steps(("red", None), ("orange", 7 * 86400), ("green", 14 * 86400)))
    )
