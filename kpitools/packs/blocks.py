"""The building blocks of pack HTML: escaped text, status cells, capped tables, and
:func:`show`, which puts a section's blocks and charts into one output.

Everything a pack shows passes through here: pandas ``to_html(escape=True)`` or
:func:`html.escape`, so a learner or employer named ``<script>alert(1)</script>``
appears as text.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpitools.returns.contract import KPIS, STAGES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STATUS_COLOURS: dict[str, str] = {
    "met": "#b7e1b5",
    "on_track": "#d7efd5",
    "at_risk": "#ffe2a8",
    "off_track": "#f7b9b4",
    "not_met": "#f29b94",
    "not_due": "#eceff1",
    "no_data": "#e0e0e0",
    "reported": "#d6e6f7",
    "FAILED": "#f29b94",
    "OK": "#b7e1b5",
}
# How bad a status is, for "the worse of two" and for ordering providers: a failed pack,
# a missed target, then off track, at risk; statuses that need no action (on track, met,
# reported, not due, no data yet) rank 0.
STATUS_SEVERITY: dict[str, int] = {"FAILED": 4, "not_met": 3, "off_track": 2, "at_risk": 1}
BREACH_STATUSES = ("not_met", "off_track")
ROW_LIMIT = 50
DPI = 72  # charts: a modest dpi keeps packs small
KPI_TITLES: dict[str, str] = {
    "employer_engagement": "Employer engagement",
    "employer_cofunding": "Employer co-funding",
    "learner_dropout": "Learner drop-out",
    "new_skills": "New skills",
    "guaranteed_interview": "Guaranteed interview",
    "career_progression": "Career progression",
    "referral": "Referral to alternative opportunities",
}
# The same KPIs in a word or two, where a wide table has no room for the titles (the
# portfolio index's headers and breach lines)
KPI_SHORT_TITLES: dict[str, str] = {
    "employer_engagement": "Engagement",
    "employer_cofunding": "Co-funding",
    "learner_dropout": "Drop-out",
    "new_skills": "New skills",
    "guaranteed_interview": "Interview",
    "career_progression": "Progression",
    "referral": "Referral",
}
STYLE = (
    "<style>table.kpi{border-collapse:collapse;margin:4px 0 12px;font-size:13px}"
    "table.kpi th,table.kpi td{border:1px solid #c5cbd3;padding:3px 7px;text-align:left;"
    "vertical-align:top}table.kpi th{background:#eef1f5}.note{color:#555;font-size:12px}"
    "</style>"
)


@dataclass(frozen=True)
class Html:
    """A block of (already escaped) HTML that Jupyter displays as such."""

    text: str

    def _repr_html_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        # IPython stores this as the output's text/plain beside the HTML: the default
        # dataclass repr would copy the whole block (embedded PNGs too) into the notebook
        return "<HTML block>"


def show(*parts: object) -> Html:
    """Several blocks of a section as one output (one notebook cell, one message).

    Args:
        *parts: :class:`Html` blocks, matplotlib figures (embedded as PNG by
            :func:`figure_html`) or None (a chart with nothing to draw),
            which is left out.

    Raises:
        TypeError: anything else (it would be shown unescaped or not at all).
    """
    chunks = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Html):
            chunks.append(part.text)
            continue
        from matplotlib.figure import Figure  # only when there is a chart

        if not isinstance(part, Figure):
            raise TypeError(f"cannot show a {type(part).__name__} in a pack")
        chunks.append(chart_html(part))
    return Html("".join(chunks))


def chart_html(fig: Figure) -> str:
    """A chart as a pack shows it: its ``<img>`` (:func:`figure_html`) in a chart block."""
    return f'<div class="chart">{figure_html(fig)}</div>'


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes at its dpi (:data:`DPI`), drawn once (Agg), without a
    timestamp or version in its metadata so a rebuilt pack has the same bytes.

    ``fig.savefig`` would draw a figure with a layout engine twice (once without
    rendering, for the constrained layout, then again to paint it): one draw here does
    both, and the PNG is written by the same encoder savefig uses (identical bytes).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    buffer = io.BytesIO()
    imsave(
        buffer,
        canvas.buffer_rgba(),
        format="png",
        origin="upper",
        dpi=fig.dpi,
        # None leaves out matplotlib's Software key (the PNG does not change with its
        # version); matplotlib's stubs allow only text values
        metadata={"Software": None},  # type: ignore[dict-item]
    )
    return buffer.getvalue()


def figure_html(fig: Figure) -> str:
    """The figure as an ``<img>`` with the PNG embedded (``data:`` URI), its title as
    alt text (escaped)."""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    alt = (titles[0] if titles else "chart").replace("\\$", "$").replace("\\\\", "\\")
    data = base64.b64encode(png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}">'


def kpi_order(key: tuple[str, str]) -> tuple[int, int]:
    """Sort key for (kpi, stage): the contract's KPI order, then design, delivery, post."""
    kpi, stage = key
    return (
        KPIS.index(kpi) if kpi in KPIS else len(KPIS),
        STAGES.index(stage) + 1 if stage in STAGES else 0,
    )


def kpi_label(kpi: str, stage: str, *, short: bool = False) -> str:
    """A KPI's title, with its engagement stage when it has one: "Employer engagement (post)"
    (``short``: "Engagement (post)", from :data:`KPI_SHORT_TITLES`)."""
    title = (KPI_SHORT_TITLES if short else KPI_TITLES).get(kpi, kpi)
    return f"{title} ({stage})" if stage else title


def esc(value: object) -> str:
    """Text of a value, HTML-escaped (blank for missing values)."""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return ""
    return html.escape(str(value), quote=True)


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f} %"


def unverified_text(count: int) -> str:
    """The cases of a KPI left unjudged because their evidence comes from the ILR, which
    does not say the role type (:attr:`kpitools.model.KpiResult.unverified`), as shown
    beside its figure: "2 unverified (role type unknown, ILR)"; blank when none."""
    return f"{count} unverified (role type unknown, ILR)" if count else ""


def severity_rank(status: str | None) -> int:
    """How bad ``status`` is (:data:`STATUS_SEVERITY`; 0 for statuses needing no action)."""
    return STATUS_SEVERITY.get(status or "", 0)


def status_cell(status: str, text: str | None = None) -> str:
    """A ``<td>`` coloured by status; ``text`` (escaped) defaults to the status."""
    colour = STATUS_COLOURS.get(status, "#ffffff")
    label = esc(text if text is not None else status.replace("_", " "))
    return f'<td style="background:{colour}" title="{esc(status)}">{label}</td>'


def _blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values blank (``None`` would print as "None"), dates without a time of
    day as ``YYYY-MM-DD``."""
    dates = {
        name: column.dt.strftime("%Y-%m-%d")
        for name, column in frame.items()
        if pd.api.types.is_datetime64_any_dtype(column)
        and column.dropna().eq(column.dropna().dt.normalize()).all()
    }
    shown = frame.assign(**dates) if dates else frame
    return shown.astype(object).where(shown.notna(), "")


def table(frame: pd.DataFrame, *, limit: int = ROW_LIMIT, more: str = "in exceptions.xlsx") -> Html:
    """Any frame as an escaped HTML table, capped at ``limit`` rows with a note."""
    if frame.empty:
        return Html('<p class="note">None.</p>')
    shown = _blank_missing(frame.head(limit))
    body = shown.to_html(escape=True, index=False, na_rep="", border=0, classes="kpi")
    # Long column names (candidates_interviewed) may wrap after an underscore, so that a
    # wide table fits a printed page without cutting its right-hand columns.
    head, sep, rest = body.partition("</thead>")
    body = head.replace("_", "_<wbr>") + sep + rest
    note = ""
    if len(frame) > limit:
        note = f'<p class="note">{len(frame) - limit} more {esc(more)}.</p>'
    return Html(STYLE + body + note)
