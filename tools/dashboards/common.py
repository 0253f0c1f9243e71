"""What every dashboard shares: the Prometheus variable, the namespace filter, the house panel styles.

Panels differ in what they query, so the modules say only that: a panel's id, title, description, unit
and queries; its look (legend table on the right, shared tooltip, thin lines) comes from here, once.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

# Every query names the Prometheus the viewer picks, never a fixed uid (tests/chart/test_dashboards.py).
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
# The SDK writes 36; the panels below use the fields of 39 (showLegend...), the version the files had.
SCHEMA_VERSION = 39
# Long streams (watches, reflection) last minutes: their latency and error share would drown the calls.
STREAMS = 'grpc_method!~"Watch|WatchRevision|ServerReflectionInfo"'
_REF_IDS = string.ascii_uppercase


@dataclass(frozen=True)
class Metrics:
    """A component's series: `m("name", 'label="x"')` → `name{namespace=~"$namespace", component=...}`.

    Every selector filters on both, as the chart's ServiceMonitors label the targets, so one Prometheus
    can hold several releases and each dashboard reads only its own component.
    """

    component: str

    def __call__(self, name: str, *matchers: str) -> str:
        labels = ", ".join(('namespace=~"$namespace"', f'component="{self.component}"', *matchers))
        return f"{name}{{{labels}}}"


def query(expr: str, legend: str, *, exemplar: bool = False) -> prometheus.Dataquery:
    """One range query on the chosen Prometheus; exemplars only where a trace link helps (latency)."""
    return (
        prometheus.Dataquery()
        .datasource(DATASOURCE)
        .expr(expr)
        .legend_format(legend)
        .range()
        .exemplar(exemplar)
    )


def steps(*colours: tuple[str, float | None]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds, lowest first; the first starts at -∞ (None)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=colour) for colour, value in colours])
    )


def colour(mode: dm.FieldColorModeId, fixed: str | None = None) -> dashboard.FieldColor:
    """A field colour: a palette, the thresholds', or one fixed colour."""
    builder = dashboard.FieldColor().mode(mode)
    return builder if fixed is None else builder.fixed_color(fixed)


def _timeseries(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    queries: tuple[prometheus.Dataquery, ...],
    size: tuple[int, int],
) -> timeseries.Panel:
    """What lines and bars share: the legend table, the tooltip, thin lines, no points, the size."""
    width, height = size
    panel = (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .show_points(cm.VisibilityMode.NEVER)
        .color_scheme(colour(dm.FieldColorModeId.PALETTE_CLASSIC))
        .legend(
            common.VizLegendOptions()
            .display_mode(cm.LegendDisplayMode.TABLE)
            .placement(cm.LegendPlacement.RIGHT)
            .show_legend(True)
            .calcs(["mean", "max", "lastNotNull"])
        )
        .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))
    )
    for ref, target in zip(_REF_IDS, queries, strict=False):
        panel.with_target(target.ref_id(ref))
    return panel


def graph(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    *queries: prometheus.Dataquery,
    width: int = 8,
    height: int = 8,
) -> timeseries.Panel:
    """Lines: rates, ratios, gauges per pod; queries get refIds A, B, C... in order."""
    return (
        _timeseries(panel_id, title, description, unit, queries, (width, height))
        .draw_style(cm.GraphDrawStyle.LINE)
        .fill_opacity(10)
        .span_nulls(False)
    )


def bars(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    *queries: prometheus.Dataquery,
    width: int = 8,
    height: int = 8,
) -> timeseries.Panel:
    """Bars: counts per interval of things that happen a few times a day (files, records, rejections)."""
    return (
        _timeseries(panel_id, title, description, unit, queries, (width, height))
        .draw_style(cm.GraphDrawStyle.BARS)
        .fill_opacity(60)
    )


def single(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    target: prometheus.Dataquery,
    *,
    width: int = 6,
    height: int = 4,
) -> stat.Panel:
    """One figure, its background coloured by the thresholds the caller sets (the last value counts)."""
    return (
        stat.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .span(width)
        .height(height)
        .unit(unit)
        .color_scheme(colour(dm.FieldColorModeId.THRESHOLDS))
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .text_mode(cm.BigValueTextMode.VALUE)
        .justify_mode(cm.BigValueJustifyMode.AUTO)
        .orientation(cm.VizOrientation.AUTO)
        .with_target(target.ref_id("A"))
    )


def row(panel_id: int, title: str) -> dashboard.Row:
    """An expanded row; the panels added after it sit under it."""
    return dashboard.Row(title).id(panel_id).collapsed(False)


def board(component: str, description: str) -> dashboard.Dashboard:
    """A component's dashboard with its fixed uid, the two variables and the link to its siblings.

    The uid stays `games-<component>`: links and bookmarks use it, and the provisioned copy replaces the
    one Grafana holds only while the uid matches.
    """
    namespaces = f'label_values(up{{component="{component}"}}, namespace)'
    return (
        dashboard.Dashboard(f"Games platform / {component}")
        .uid(f"games-{component}")
        .description(description)
        .tags(["games-platform", component])
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .timezone("")
        .time("now-6h", "now")
        .refresh("30s")
        .fiscal_year_start_month(0)
        .live_now(False)
        .week_start("")
        .version(1)
        .link(
            dashboard.DashboardLink("Games platform")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags(["games-platform"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
            .icon("external link")
            .target_blank(False)
            .tooltip("")
            .url("")
        )
        .with_variable(
            dashboard.DatasourceVariable("datasource")
            .id("datasource")
            .label("Prometheus")
            .type("prometheus")
            .multi(False)
            .include_all(False)
            .regex("")
        )
        .with_variable(
            dashboard.QueryVariable("namespace")
            .id("namespace")
            .label("Namespace")
            .datasource(DATASOURCE)
            .query(
                {
                    "qryType": 1,
                    "query": namespaces,
                    "refId": "PrometheusVariableQueryEditor-VariableQuery",
                }
            )
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .regex("")
        )
    )


def render(builder: dashboard.Dashboard) -> str:
    """The dashboard's JSON as the chart ships it: sorted keys, 2-space indent, a final newline."""
    model = builder.build()
    model.schema_version = SCHEMA_VERSION
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
