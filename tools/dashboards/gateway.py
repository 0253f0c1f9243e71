"""The gateway's dashboard: the one door for callers, so its cache, rate limits and auth denials too.

Panel ids are fixed (see tools.dashboards.service); 27 came last, after 22-26 of the saturation row.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from tools.dashboards.common import Metrics, board, graph, query, row
from tools.dashboards.service import grpc_rows, saturation_rows

m = Metrics("gateway")


def _cache(dash: dashboard.Dashboard) -> None:
    """Ids 10-15: hit ratio from the lookups counter (not the since-start gauge), size, the revision watch."""
    hits = m("gateway_cache_lookups_total", 'result="hit"')
    hits_and_misses = m("gateway_cache_lookups_total", 'result=~"hit|miss"')
    dash.with_row(row(10, "Cache"))
    dash.with_panel(
        graph(
            11,
            "Cache hit ratio",
            "Hits over hits plus misses, from the lookups counter (bypassed lookups left out).",
            "percentunit",
            query(
                f"sum(rate({hits}[$__rate_interval])) / sum(rate({hits_and_misses}[$__rate_interval]))", "all"
            ),
            query(
                f"sum by (grpc_method) (rate({hits}[$__rate_interval]))"
                f" / sum by (grpc_method) (rate({hits_and_misses}[$__rate_interval]))",
                "{{grpc_method}}",
            ),
            width=12,
        )
        .min(0)
        .max(1)
    )
    dash.with_panel(
        graph(
            12,
            "Cache lookups by result",
            "hit, miss, bypass (a caller asked for fresh data).",
            "ops",
            query(
                f"sum by (result) (rate({m('gateway_cache_lookups_total')}[$__rate_interval]))", "{{result}}"
            ),
            width=12,
        )
    )
    dash.with_panel(
        graph(
            13,
            "Cache entries per pod",
            "Responses held; the catalog revision empties it.",
            "short",
            query(f"sum by (pod) ({m('gateway_cache_entries')})", "{{pod}}"),
        ).min(0)
    )
    dash.with_panel(
        graph(
            14,
            "Cache size per pod",
            "Serialized bytes of the cached responses.",
            "bytes",
            query(f"sum by (pod) ({m('gateway_cache_bytes')})", "{{pod}}"),
        ).min(0)
    )
    breaks = m("gateway_revision_watch_breaks_total")
    dash.with_panel(
        graph(
            15,
            "Revision watch",
            "1 while the pod follows the catalog's revision (without it the cache is bypassed); breaks per "
            "interval.",
            "short",
            query(f"min by (pod) ({m('gateway_revision_watch_up')})", "up {{pod}}"),
            query(f"sum by (pod) (increase({breaks}[$__rate_interval]))", "breaks {{pod}}"),
        ).min(0)
    )


def _limits(dash: dashboard.Dashboard) -> None:
    """Ids 16-21 and 27: what the limiter decided, which limiter decided it, and who was turned away."""
    decisions = m("gateway_ratelimit_decisions_total")
    rejected = m("gateway_ratelimit_decisions_total", 'outcome="rejected"')
    dash.with_row(row(16, "Rate limits and authentication"))
    dash.with_panel(
        graph(
            17,
            "Rate-limit decisions by outcome",
            "allowed and rejected calls, every key.",
            "ops",
            query(f"sum by (outcome) (rate({decisions}[$__rate_interval]))", "{{outcome}}"),
        )
    )
    dash.with_panel(
        graph(
            18,
            "Rejected share",
            "RateLimitSaturated fires above 20 % for 15 minutes.",
            "percentunit",
            query(
                f"sum(rate({rejected}[$__rate_interval])) / sum(rate({decisions}[$__rate_interval]))",
                "rejected",
            ),
        )
        .min(0)
        .max(1)
    )
    dash.with_panel(
        graph(
            19,
            "Denied calls by reason",
            "MISSING_CREDENTIALS, UNKNOWN_KEY, MISSING_SCOPE, UNKNOWN_METHOD, RATE_LIMITED.",
            "ops",
            query(
                f"sum by (reason) (rate({m('gateway_auth_denied_total')}[$__rate_interval]))", "{{reason}}"
            ),
        )
    )
    dash.with_panel(
        graph(
            20,
            "Rate limiter in use per pod",
            "1 for the limiter deciding now: redis (shared by every replica) or local (Redis failed, or none "
            "configured).",
            "short",
            query(f"max by (pod, backend) ({m('gateway_ratelimit_backend')})", "{{backend}} {{pod}}"),
        )
        .min(0)
        .max(1)
    )
    fallbacks = m("gateway_ratelimit_fallback_total")
    dash.with_panel(
        graph(
            21,
            "Switches to the local limiter",
            "Redis failures that made a pod fall back (RateLimitRedisFallback).",
            "short",
            query(f"sum by (pod) (increase({fallbacks}[$__rate_interval]))", "{{pod}}"),
        ).min(0)
    )
    dash.with_panel(
        graph(
            27,
            "Replicas sharing the limits, as each pod counts them",
            "gateway_ratelimit_replicas: the gateways counting each other in Redis (each reports every 5 s). "
            "While Redis is down each pod admits the limit divided by its last count.",
            "short",
            query(f"max by (pod) ({m('gateway_ratelimit_replicas')})", "{{pod}}"),
        ).min(0)
    )


def build() -> dashboard.Dashboard:
    """The gateway's dashboard, rows in reading order: calls, cache, limits and auth, saturation."""
    dash = board(
        "gateway", "The one door for callers: calls, errors, latency, cache, rate limits and auth denials."
    )
    grpc_rows(dash, m, 1)
    _cache(dash)
    _limits(dash)
    return saturation_rows(dash, m, 22)
