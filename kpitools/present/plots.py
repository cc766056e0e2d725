"""Charts for the packs: each function returns a matplotlib Figure, or None when there is
nothing to draw. Figures are never shown or saved here (the notebook displays them, and
Jupyter embeds them as PNG).

Figures are built with :class:`matplotlib.figure.Figure` (not pyplot), so nothing is
registered globally, nothing shows twice and no interactive backend is ever loaded: the
pack turns each figure into an embedded PNG itself
(:func:`kpitools.present.blocks.figure_html`), drawn once at
:data:`kpitools.present.blocks.DPI` with the figure's constrained layout, or on the fixed grid of
the trends' small multiples (IPython's inline backend would draw it
twice for its tight bounding box, and import pyplot). Every piece of provider text goes through
:func:`label`, which escapes ``$`` so a name like ``Ba$$in`` is drawn as written
instead of being parsed as mathtext. A modest dpi keeps packs small.

The provider pack shows its charts by name (:data:`PACK_CHARTS`, :func:`chart`), so that
a runner can draw them before the notebook runs (:func:`draw_charts`, while the pack's
kernel starts, see :mod:`kpitools.run.runner`) and the notebook only embeds them; a
notebook run without them draws each chart itself, to the same bytes. matplotlib is
imported only when a figure is built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from markupsafe import Markup

from kpitools.kpis.charts import COFUNDING_DUE_VS_PAID, FUNNELS, SATISFACTION_SCORES
from kpitools.model import KpiResult, ProviderAudit
from kpitools.present.blocks import DPI, STATUS_COLOURS, chart_html, kpi_label, kpi_order

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kpitools.model import Trends
    from kpitools.present.context import PackContext

GOOD, BAD, NEUTRAL, LIMIT = "#4c9a5b", "#c8553d", "#6b8fb3", "#333333"


def label(text: object) -> str:
    """Provider text safe for matplotlib: ``$`` escaped so mathtext never triggers."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def _figure(width: float = 6.4, height: float = 3.0) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _title(ax: Axes, text: str, **kwargs: Any) -> None:
    """The axes' title, at the top of the axes: where matplotlib's automatic placement
    puts it when no tick labels are above the axes (none of ours has any), without
    measuring every tick label of the figure again at each draw to find out (~40 % of a
    chart's drawing time)."""
    ax.set_title(text, y=1.0, **kwargs)


def _results(audit: ProviderAudit, kpi: str) -> list[KpiResult]:
    return [r for r in audit.kpi_results if r.kpi == kpi]


def dropout_by_bootcamp(audit: ProviderAudit) -> Figure | None:
    """Drop-out rate per bootcamp (and the provider) against the limit line."""
    rates = [
        (r.bootcamp_id, r.value) for r in _results(audit, "learner_dropout") if r.value is not None
    ]
    if not rates:
        return None
    limit = audit.rules.dropout_limit
    fig = _figure()
    ax = fig.add_subplot()
    names = [label(bootcamp_id) for bootcamp_id, _ in rates]
    values = [value * 100 for _, value in rates]
    colours = [BAD if value > limit else GOOD for _, value in rates]
    ax.bar(range(len(rates)), values, color=colours)
    ax.set_xticks(range(len(rates)), names, rotation=30, ha="right")
    ax.axhline(limit * 100, color=LIMIT, linestyle="--", linewidth=1)
    ax.text(
        len(rates) - 0.5,
        limit * 100,
        f" limit {limit * 100:.0f} %",
        va="bottom",
        ha="right",
        fontsize=9,
    )
    ax.set_ylabel("drop-out (%)")
    _title(ax, "Drop-out per bootcamp")
    return fig


def dropout_trend(trends: Trends | None) -> Figure | None:
    """Drop-out month by month: the provider (thick, its latest figure written beside it)
    and each bootcamp, against the limit, on an axis from 0 to 100 % (zoomed when the
    limit lies near an end of it, :func:`value_range`); None with fewer than two months."""
    if trends is None or len(trends.periods) < 2:
        return None
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    limit = _dropout_lines(ax, trends, with_provider=True)
    ax.set_ylabel("drop-out (%)")
    _trend_axes(ax, "Drop-out month by month", trends.periods)
    figures = trends.figures
    dropout = figures[figures["kpi"] == "learner_dropout"].dropna(subset=["value"])
    _value_axis(ax, dropout["value"] * 100, limit)
    provider = dropout[dropout["bootcamp_id"] == "ALL"]
    position = {p: i for i, p in enumerate(trends.periods)}
    _label_last(ax, [position[p] for p in provider["period"]], provider["value"] * 100)
    return fig


def _dropout_lines(ax: Axes, trends: Trends, *, with_provider: bool) -> float | None:
    """Drop-out month by month, a line per bootcamp (and the provider's, thick), and the
    limit; returns the limit in percent (None when no figure has one)."""
    figures = trends.figures
    dropout = figures[figures["kpi"] == "learner_dropout"].dropna(subset=["value"])
    position = {p: i for i, p in enumerate(trends.periods)}
    for bootcamp_id, series in dropout.groupby("bootcamp_id", sort=True):
        if bootcamp_id == "ALL" and not with_provider:
            continue
        provider = bootcamp_id == "ALL"
        ax.plot(
            [position[p] for p in series["period"]],
            series["value"] * 100,
            marker="o",
            markersize=4 if provider else 3,
            linewidth=2.4 if provider else 1,
            color=LIMIT if provider else None,
            label="provider" if provider else label(bootcamp_id),
            zorder=3 if provider else 2,
        )
    limits = dropout["target"].dropna()
    limit = float(limits.iloc[-1]) * 100 if len(limits) else None
    if limit is not None:
        ax.axhline(limit, color=BAD, linestyle="--", linewidth=0.8)
    ax.legend(fontsize=6, loc="upper left", ncols=3, frameon=False)
    return limit


def satisfaction_distribution(audit: ProviderAudit) -> Figure | None:
    """Distribution of employers' satisfaction scores (0-5) in reached contacts
    (:func:`kpitools.kpis.charts.satisfaction_scores`)."""
    counts = audit.charts.get(SATISFACTION_SCORES)
    if counts is None or counts.empty:
        return None
    passing = audit.rules.satisfaction_pass_score
    fig = _figure(5.0, 2.6)
    ax = fig.add_subplot()
    ax.bar(
        counts["score"],
        counts["contacts"],
        color=[GOOD if s >= passing else BAD for s in counts["score"]],
    )
    ax.set_xticks(range(6), ["0 Unacceptable", "1", "2", "3", "4", "5 Excellent"], fontsize=8)
    ax.set_ylabel("contacts")
    _title(ax, "Employer satisfaction scores (reached contacts)")
    return fig


def funnel(stages: Sequence[tuple[str, int]], title: str) -> Figure | None:
    """A horizontal funnel of counts, widest stage first."""
    if not stages or max(count for _, count in stages) == 0:
        return None
    fig = _figure(6.4, 0.6 + 0.45 * len(stages))
    ax = fig.add_subplot()
    names = [label(name) for name, _ in stages][::-1]
    counts = [count for _, count in stages][::-1]
    ax.barh(names, counts, color=NEUTRAL)
    for y, count in enumerate(counts):
        ax.text(count, y, f" {count}", va="center", fontsize=9)
    ax.set_xlabel("learners")
    _title(ax, label(title))
    return fig


def kpi_funnel(audit: ProviderAudit, kpi: str, stage_names: tuple[str, str, str]) -> Figure | None:
    """Completers → the KPI's denominator → its numerator, for the provider (``ALL``;
    :func:`kpitools.kpis.charts.funnels`).

    Args:
        audit: the provider's audit.
        kpi: ``guaranteed_interview`` or ``career_progression``.
        stage_names: labels for completers, denominator and numerator.
    """
    figures = audit.charts.get(FUNNELS)
    rows = [] if figures is None else figures[figures["kpi"] == kpi].to_dict("records")
    if not rows:
        return None
    stages = [
        (stage_names[0], int(rows[0]["completers"])),
        (stage_names[1], int(rows[0]["denominator"])),
        (stage_names[2], int(rows[0]["numerator"])),
    ]
    return funnel(stages, f"{stage_names[0].capitalize()} to {stage_names[2]} (provider)")


def cofunding_due_vs_paid(audit: ProviderAudit) -> Figure | None:
    """Co-funding due against paid per employer, as computed with the audit
    (:func:`kpitools.kpis.charts.cofunding_due_vs_paid`), against the rules' tolerance."""
    return due_vs_paid(
        audit.charts.get(COFUNDING_DUE_VS_PAID), tolerance=audit.rules.payment_tolerance
    )


def due_vs_paid(frame: pd.DataFrame | None, *, tolerance: float) -> Figure | None:
    """Co-funding due against paid per employer.

    Args:
        frame: one row per employer: ``employer`` (label), ``due`` and ``paid`` (pounds).
        tolerance: shortfall tolerated (the rule's ``payment_tolerance``): bars paid
            within it are green, others red.
    """
    if frame is None or frame.empty:
        return None
    shown = frame.head(25)
    fig = _figure(6.4, 0.8 + 0.3 * len(shown))
    ax = fig.add_subplot()
    positions = range(len(shown))
    ax.barh([p + 0.2 for p in positions], shown["due"], height=0.4, color="#9aa5b1", label="due")
    ax.barh(
        [p - 0.2 for p in positions],
        shown["paid"],
        height=0.4,
        color=[
            GOOD if p + tolerance >= d else BAD
            for p, d in zip(shown["paid"], shown["due"], strict=True)
        ],
        label="paid",
    )
    ax.set_yticks(list(positions), [label(e) for e in shown["employer"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("£")
    ax.legend(loc="lower right", fontsize=8)
    _title(ax, "Co-funding due vs paid")
    return fig


def kpi_trends(trends: Trends | None, *, reuse: bool = False) -> Figure | None:
    """Small multiples: each KPI's provider figure month by month, the target as a dashed
    line, each point coloured by its status; a last panel draws drop-out per bootcamp.

    The axis runs from 0 to 100 % so that months and KPIs compare at a glance, except
    where the target lies near an end of it (a target of 100 %): that panel's axis is
    zoomed to its figures and target, so that the gap shows (:func:`value_range`), and
    says so. Each panel has its percentages beside it and its latest figure written
    beside its point. The panels share the axis of months
    (:func:`_small_multiples`), labelled under each column's lowest panel.

    Args:
        trends: the provider's KPI figures month by month.
        reuse: draw on the figure of this thread's last ``reuse`` call when it has the
            same panels and months (its data taken off first; the same PNG as a new
            figure), not on a new one: building the ten panels' axes and ticks is most
            of the chart's cost. The figure returned is then redrawn by the next such
            call: embed it first (as :func:`draw_charts` and :func:`chart` do).
    """
    if trends is None:
        return None
    figures = trends.figures
    provider = figures[figures["bootcamp_id"] == "ALL"]
    if provider.empty:
        return None
    periods = trends.periods
    position = {p: i for i, p in enumerate(periods)}
    keys = sorted(
        {(k, s) for k, s in zip(provider["kpi"], provider["stage"], strict=True)}, key=kpi_order
    )
    bootcamps = figures[(figures["kpi"] == "learner_dropout") & (figures["bootcamp_id"] != "ALL")]
    axes = _small_multiples(len(keys) + (1 if len(bootcamps) else 0), periods, reuse=reuse)
    for ax, (kpi, stage) in zip(axes, keys, strict=False):
        series = provider[(provider["kpi"] == kpi) & (provider["stage"] == stage)].dropna(
            subset=["value"]
        )
        xs = [position[p] for p in series["period"]]
        ax.plot(xs, series["value"] * 100, color=NEUTRAL, linewidth=1.2, zorder=1)
        ax.scatter(
            xs,
            series["value"] * 100,
            s=36,
            zorder=2,
            edgecolors=LIMIT,
            linewidths=0.6,
            c=[STATUS_COLOURS.get(s, "#ffffff") for s in series["status"]],
        )
        targets = series["target"].dropna()
        target = float(targets.iloc[-1]) * 100 if len(targets) else None
        if target is not None:
            ax.axhline(target, color=LIMIT, linestyle="--", linewidth=0.8)
        _title(ax, label(kpi_label(kpi, stage)), fontsize=9)
        _value_axis(ax, series["value"] * 100, target)
        _label_last(ax, xs, series["value"] * 100)
    if len(bootcamps):
        ax = axes[len(keys)]
        target = _dropout_lines(ax, trends, with_provider=False)
        _title(ax, "Drop-out per bootcamp", fontsize=9)
        _value_axis(ax, bootcamps["value"].dropna() * 100, target)
    # the axes of _small_multiples are on a Figure of their own, never a SubFigure
    return cast("Figure", axes[0].get_figure())


# A target within this many points of either end of the 0-100 % axis (a target of 100 %,
# or a drop-out limit of 5 %) leaves no room to see a figure's gap to it on the whole
# axis ("99.3 % against 100 %" sits on the target line): such a panel's axis is zoomed to
# its figures and target, and says so.
TARGET_NEAR_END = 10.0
ZOOM_MARGIN = 0.15  # of the zoomed range, above and below
ZOOM_MIN_MARGIN = 1.0  # points: figures equal to their target still show a band ...
ZOOM_MIN_SPAN = 5.0  # ... of at least this many points, away from the end of the axis
ZOOM_MAX_SPAN = 50.0  # points: a wider range shows the gap on the whole axis as well
FULL_AXIS = (0.0, 105.0)
FULL_TICKS = range(0, 101, 20)  # as the default locator would, without its tick at 120
ZOOMED = "axis zoomed"


def value_range(values: Iterable[float], target: float | None) -> tuple[float, float] | None:
    """The y limits (percent) that show ``values`` and their ``target``: None (the whole
    0-105 % axis) unless the target lies within :data:`TARGET_NEAR_END` points of 0 or
    100 %; then the range from the lowest to the highest of the figures and the target,
    with a margin (:data:`ZOOM_MARGIN`, at least :data:`ZOOM_MIN_MARGIN` points), at
    least :data:`ZOOM_MIN_SPAN` points high, within the whole axis; None again when that
    range is more than :data:`ZOOM_MAX_SPAN` points high (the gap shows on the whole
    axis)."""
    if target is None or TARGET_NEAR_END < target < 100 - TARGET_NEAR_END:
        return None
    shown = [float(v) for v in values if pd.notna(v)] + [target]
    low, high = min(shown), max(shown)
    margin = max((high - low) * ZOOM_MARGIN, ZOOM_MIN_MARGIN)
    lower, upper = max(low - margin, FULL_AXIS[0]), min(high + margin, FULL_AXIS[1])
    if upper - lower < ZOOM_MIN_SPAN and target >= 50:
        lower = max(upper - ZOOM_MIN_SPAN, FULL_AXIS[0])
    elif upper - lower < ZOOM_MIN_SPAN:
        upper = min(lower + ZOOM_MIN_SPAN, FULL_AXIS[1])
    return None if upper - lower > ZOOM_MAX_SPAN else (lower, upper)


def _value_axis(ax: Axes, values: Iterable[float], target: float | None) -> None:
    """The panel's y axis, its percentages beside it: the whole 0-105 %, or zoomed to its
    figures and target (:func:`value_range`), marked :data:`ZOOMED`, with ticks at round
    percentages (none above 100)."""
    zoomed = value_range(values, target)
    if zoomed is None:
        ticks: Sequence[float] = FULL_TICKS
    else:
        from matplotlib.ticker import MaxNLocator

        near = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(*zoomed)
        ticks = [float(t) for t in near if zoomed[0] <= t <= min(zoomed[1], 100)]
    ax.set_ylim(*(zoomed or FULL_AXIS))
    # the labels given with the ticks: a panel drawn again (kpi_trends' reuse) keeps none
    # of the last drawing's
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    if zoomed is None:
        return
    ax.text(
        0.98,
        0.03,
        ZOOMED,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
        color="#666666",
    )


def _label_last(ax: Axes, xs: Sequence[int], values: pd.Series) -> None:
    """The latest figure written beside its point ("99.3 %"): below it in the upper half
    of the axis, above it in the lower half, so it stays inside the panel."""
    if not len(xs):
        return
    value = float(values.iloc[-1])
    low, high = ax.get_ylim()
    upper = value > (low + high) / 2
    ax.annotate(
        f"{value:.1f} %",
        (xs[-1], value),
        xytext=(-4, -5 if upper else 5),
        textcoords="offset points",
        ha="right",
        va="top" if upper else "bottom",
        fontsize=7,
        color=LIMIT,
        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
    )


# kpi_trends' grid, in inches: panels 2.7 x 1.83 in, 3.2 in apart across and 2.3 in down
# (a row's height), with room for a row's titles above it and the month labels and the
# percentages beside them. The text around the panels is the same for every provider
# (titles are KPI names), so the layout is fixed here instead of solved for each chart
# (matplotlib's constrained layout measured every label of every panel twice: the larger
# part of a pack's chart time).
TREND_COLUMNS = 3
TREND_WIDTH, TREND_ROW = 9.6, 2.3
TREND_LEFT, TREND_RIGHT, TREND_TOP, TREND_BOTTOM = 0.46, 0.04, 0.24, 0.24
TREND_GAP_ACROSS, TREND_GAP_DOWN = 0.5, 0.47
TREND_ROTATED_AFTER = 6  # more months than this: their labels turn 45 degrees
TREND_ROTATED_EXTRA = 0.2  # and need this much more room below the lowest panels
_reusable = threading.local()  # kpi_trends(reuse=True): this thread's last (key, axes)


def _small_multiples(panels: int, periods: Sequence[str], *, reuse: bool = False) -> list[Axes]:
    """``panels`` trend axes on a fixed grid of :data:`TREND_COLUMNS`, sharing one axis
    of months, labelled under the lowest panels (each panel's y axis is set when it is
    drawn, :func:`_value_axis`).
    ``reuse``: this thread's last such axes, emptied, when they fit (see :func:`kpi_trends`)."""
    from matplotlib.figure import Figure

    key = (panels, tuple(periods))
    reused = getattr(_reusable, "trends", None)
    if reuse and reused is not None and reused[0] == key:
        for ax in reused[1]:
            for artist in [*ax.lines, *ax.collections, *ax.texts]:
                artist.remove()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
            ax.set_prop_cycle(None)  # the bootcamps' lines take the same colours again
            ax.set_title("")
        return reused[1]
    rows = -(-panels // TREND_COLUMNS)
    rotated = len(periods) > TREND_ROTATED_AFTER
    height = TREND_ROW * rows
    bottom = TREND_BOTTOM + (TREND_ROTATED_EXTRA if rotated else 0)
    panel_width = (
        TREND_WIDTH - TREND_LEFT - TREND_RIGHT - TREND_GAP_ACROSS * (TREND_COLUMNS - 1)
    ) / TREND_COLUMNS
    panel_height = (height - TREND_TOP - bottom - TREND_GAP_DOWN * (rows - 1)) / rows
    fig = Figure(figsize=(TREND_WIDTH, height), dpi=DPI)
    grid = fig.add_gridspec(
        rows,
        TREND_COLUMNS,
        left=TREND_LEFT / TREND_WIDTH,
        right=1 - TREND_RIGHT / TREND_WIDTH,
        bottom=bottom / height,
        top=1 - TREND_TOP / height,
        wspace=TREND_GAP_ACROSS / panel_width,
        hspace=TREND_GAP_DOWN / panel_height,
    )
    axes: list[Axes] = []
    for i in range(panels):  # only the panels drawn: an empty slot of the grid costs no axes
        ax = fig.add_subplot(
            grid[i // TREND_COLUMNS, i % TREND_COLUMNS],
            sharex=axes[0] if axes else None,
        )
        first_column, lowest = i % TREND_COLUMNS == 0, i + TREND_COLUMNS >= panels
        ax.tick_params(labelsize=7, labelbottom=lowest)
        ax.tick_params(axis="x", labelrotation=45 if rotated else 0)
        if first_column:
            ax.set_ylabel("%", fontsize=7)
        else:  # no label to place beside the tick labels: matplotlib would measure them again
            ax.yaxis.set_label_coords(0, 0.5)
        ax.xaxis.set_label_coords(0.5, 0)  # nor under them (no panel has an x label)
        axes.append(ax)
    axes[0].set_xlim(-0.5, len(periods) - 0.5)
    axes[0].set_xticks(range(len(periods)), [p[2:] for p in periods])
    if reuse:
        _reusable.trends = (key, axes)
    return axes


def _trend_axes(ax: Axes, title: str, periods: Sequence[str]) -> None:
    _title(ax, label(title), fontsize=9)
    ax.set_xlim(-0.5, len(periods) - 0.5)
    ax.set_xticks(
        range(len(periods)),
        [p[2:] for p in periods],
        fontsize=7,
        rotation=45 if len(periods) > TREND_ROTATED_AFTER else 0,
    )
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("%", fontsize=7)


# The provider pack's charts, by the name its notebook shows them with (:func:`chart`).
PACK_CHARTS: dict[str, Callable[[ProviderAudit], Figure | None]] = {
    "kpi_trends": lambda audit: kpi_trends(audit.trends, reuse=True),  # embedded at once
    "satisfaction_distribution": satisfaction_distribution,
    "cofunding_due_vs_paid": cofunding_due_vs_paid,
    "dropout_by_bootcamp": dropout_by_bootcamp,
    "dropout_trend": lambda audit: dropout_trend(audit.trends),
    "interview_funnel": lambda audit: kpi_funnel(
        audit, "guaranteed_interview", ("completers", "want an interview", "valid interview offer")
    ),
    "progression_funnel": lambda audit: kpi_funnel(
        audit, "career_progression", ("completers", "window closed", "valid outcome")
    ),
}


def draw_charts(audit: ProviderAudit) -> dict[str, str]:
    """Every chart of :data:`PACK_CHARTS` for ``audit``, as the pack embeds it
    (:func:`kpitools.present.blocks.chart_html`; "" for a chart with nothing to draw)."""
    drawn = {}
    for name, build in PACK_CHARTS.items():
        fig = build(audit)
        drawn[name] = "" if fig is None else str(chart_html(fig))
    return drawn


def chart(ctx: PackContext, name: str) -> Markup | None:
    """The pack's chart ``name`` (:data:`PACK_CHARTS`): drawn already when the context
    carries it (``ctx.charts``), else drawn now; None when there is nothing to draw.

    Raises:
        KeyError: not a chart of the pack.
    """
    build = PACK_CHARTS[name]
    saved = ctx.charts.get(name)
    if saved is None:
        fig = build(ctx.audit)
        return None if fig is None else chart_html(fig)
    # drawn by draw_charts (chart_html) and saved beside the audit in the batch's private
    # folder (kpitools.present.context.save_charts): HTML already
    return Markup(saved) if saved else None
