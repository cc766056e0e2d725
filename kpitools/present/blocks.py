"""The building blocks of pack HTML: status cells, tables, lists, charts, and
:func:`show`, which puts a section's blocks and charts into one output.

Every fragment is a :class:`markupsafe.Markup`: a value put into one
(``Markup("<td>{}</td>").format(value)``, :meth:`~markupsafe.Markup.join`, ``+``) is
escaped unless it is Markup itself, so a learner or employer named
``<script>alert(1)</script>`` appears as text without a call anyone must remember. Only
a few functions wrap text that is HTML already (pandas' ``to_html(escape=True)``, a
chart's ``<img>``): ``tests/test_html_source.py`` names them, and fails on any HTML
built from an f-string, ``%`` or ``str.format``.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from kpitools.model import IRREGULARITY
from kpitools.returns.contract import KPIS, PROFILE_KPIS, STAGES
from kpitools.text import visible_text

if TYPE_CHECKING:
    from IPython.display import HTML
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
# A table with more columns than this cannot be read on portrait A4 (8 px type, headers
# broken only between words): it is marked wide, and printed on landscape pages
# (``@page wide`` in the pack's print stylesheet, templates/kpipack)
WIDE_COLUMNS = 10
DPI = 72  # charts: a modest dpi keeps packs small
KPI_TITLES: dict[str, str] = {
    "employer_engagement": "Employer engagement",
    "employer_cofunding": "Employer co-funding",
    "learner_dropout": "Learner drop-out",
    "new_skills": "New skills",
    "guaranteed_interview": "Guaranteed interview",
    "career_progression": "Career progression",
    "referral": "Referral to alternative opportunities",
    "completion": "Completion",
    "starts": "Starts against planned learners",
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
    "completion": "Completion",
    "starts": "Starts",
}
# The headings of the exceptions' groups: each KPI, then the irregularities
FINDING_TITLES: dict[str, str] = {**KPI_TITLES, IRREGULARITY: "Irregularities"}


def finding_titles(measured: Collection[str]) -> dict[str, str]:
    """:data:`FINDING_TITLES` without the KPIs a rule profile adds (``PROFILE_KPIS``)
    that were not ``measured``: under the guidance's profile no Completion or Starts row
    or column appears."""
    return {k: t for k, t in FINDING_TITLES.items() if k not in PROFILE_KPIS or k in measured}


STYLE = Markup(
    "<style>table.kpi{border-collapse:collapse;margin:4px 0 12px;font-size:13px}"
    "table.kpi th,table.kpi td{border:1px solid #c5cbd3;padding:3px 7px;text-align:left;"
    "vertical-align:top}table.kpi th{background:#eef1f5}.note{color:#555;font-size:12px}"
    "</style>"
)
EMPTY = Markup("")


def show(*parts: Markup | Figure | None) -> HTML:
    """Several blocks of a section as one output (one notebook cell, one message): what a
    notebook cell ends with, displayed by Jupyter as HTML (and as a one-line text/plain,
    never a copy of the block with its embedded PNGs).

    Args:
        *parts: :class:`~markupsafe.Markup` blocks, matplotlib figures (embedded as PNG
            by :func:`chart_html`) or None (a chart with nothing to draw), which is left
            out.

    Raises:
        TypeError: anything else (text would be shown unescaped or not at all).
    """
    from IPython.display import HTML  # the kernel's own; only where a cell displays

    chunks = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Markup):
            chunks.append(part)
            continue
        from matplotlib.figure import Figure  # only when there is a chart

        if not isinstance(part, Figure):
            raise TypeError(f"cannot show a {type(part).__name__} in a pack")
        chunks.append(chart_html(part))
    output = HTML()
    # given after construction: HTML(text) would take text starting with "http" for a
    # URL to fetch, and text naming an existing file for a file to read; a value's
    # control characters shown as \xNN, as in every other output (no markup holds any)
    output.data = visible_text(str(EMPTY.join(chunks)))
    return output


def chart_html(fig: Figure) -> Markup:
    """A chart as a pack shows it: its ``<img>`` (:func:`figure_html`) in a chart block."""
    return Markup('<div class="chart">{}</div>').format(figure_html(fig))


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


def figure_html(fig: Figure) -> Markup:
    """The figure as an ``<img>`` with the PNG embedded (``data:`` URI), its title as
    alt text."""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    alt = (titles[0] if titles else "chart").replace("\\$", "$").replace("\\\\", "\\")
    data = base64.b64encode(png(fig)).decode("ascii")
    return Markup('<img alt="{}" src="data:image/png;base64,{}">').format(alt, data)


def kpi_order(key: tuple[str, str]) -> tuple[int, int]:
    """Sort key for (kpi, stage): the contract's KPI order (a profile's KPIs after the
    guidance's), then design, delivery, post."""
    kpi, stage = key
    order = (*KPIS, *PROFILE_KPIS)
    return (
        order.index(kpi) if kpi in order else len(order),
        STAGES.index(stage) + 1 if stage in STAGES else 0,
    )


def kpi_label(kpi: str, stage: str, *, short: bool = False) -> str:
    """A KPI's title, with its engagement stage when it has one: "Employer engagement (post)"
    (``short``: "Engagement (post)", from :data:`KPI_SHORT_TITLES`)."""
    title = (KPI_SHORT_TITLES if short else KPI_TITLES).get(kpi, kpi)
    return f"{title} ({stage})" if stage else title


def plain(value: object) -> str:
    """A value as text in a pack: blank for a missing value (None, NaN, NaT), not
    "None"; the text of anything else. (Escaping is Markup's, where it is put.)"""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return ""
    return str(value)


def case_command(period: str, provider_id: str, exception_id: str) -> str:
    """The command that builds a finding's case file (``kpitools case``), ``OUT`` being
    the output root the pack was built into."""
    return f"kpitools case OUT {period} {provider_id} --exception {exception_id}"


def status_words(status: str) -> str:
    """A status as words: "off track" for ``off_track``."""
    return status.replace("_", " ")


def unverified_text(count: int) -> str:
    """The cases of a KPI left unjudged because their evidence comes from the ILR, which
    does not say the role type (:attr:`kpitools.model.KpiResult.unverified`), as shown
    beside its figure: "2 unverified (role type unknown, ILR)"; blank when none."""
    return f"{count} unverified (role type unknown, ILR)" if count else ""


def short_text(open_short: int) -> str:
    """The failing cases not yet due of a KPI (:attr:`kpitools.model.KpiResult.open_short`),
    as shown beside its figure: "2 short, not yet due"; blank when none. With it, "at
    risk" beside "100.0 %" says why: every due case passes, later ones are short."""
    return f"{open_short} short, not yet due" if open_short else ""


def figure_label(status: str, value: float | None, *, open_short: int = 0) -> str:
    """A status with its figure, the one way a table cell or sentence labels a KPI:
    "on track · 11.6 %", "at risk · 100.0 % · 2 short, not yet due" (the reason follows
    whenever the figure alone would not explain the status)."""
    from kpitools.method import percent

    parts = [status_words(status)]
    if value is not None:
        parts.append(percent(value))
    if open_short and status not in ("met", "not_met"):
        parts.append(short_text(open_short))
    return " · ".join(parts)


def severity_rank(status: str | None) -> int:
    """How bad ``status`` is (:data:`STATUS_SEVERITY`; 0 for statuses needing no action)."""
    return STATUS_SEVERITY.get(status or "", 0)


def cell(value: object, tag: str = "td") -> Markup:
    """A table cell holding ``value``: as it is when Markup, else as text (blank when
    missing)."""
    inside = value if isinstance(value, Markup) else plain(value)
    return Markup("<{0}>{1}</{0}>").format(tag, inside)


def status_cell(status: str, text: object = None) -> Markup:
    """A ``<td>`` coloured by status, titled with it; ``text`` defaults to the status in
    words (:func:`status_words`)."""
    colour = STATUS_COLOURS.get(status, "#ffffff")
    label = status_words(status) if text is None else text
    return Markup('<td style="background:{}" title="{}">{}</td>').format(colour, status, label)


def row(*cells: object) -> Markup:
    """A ``<tr>``: each Markup is a cell already (:func:`cell`, :func:`status_cell`),
    any other value the text of a ``<td>``."""
    return Markup("<tr>{}</tr>").format(
        EMPTY.join(c if isinstance(c, Markup) else cell(c) for c in cells)
    )


def html_table(head: Iterable[object], rows: Iterable[Markup], *, classes: str = "kpi") -> Markup:
    """A styled table: a header row (each Markup a ``<th>`` already, any other value its
    text) and the rows (:func:`row`)."""
    header = EMPTY.join(h if isinstance(h, Markup) else cell(h, "th") for h in head)
    return STYLE + Markup(
        '<table class="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>'
    ).format(classes, header, EMPTY.join(rows))


def bullets(items: Iterable[object], *, classes: str = "") -> Markup:
    """A ``<ul>`` with one ``<li>`` per item (Markup as it is, anything else as text);
    nothing when there is no item."""
    shown = EMPTY.join(cell(item, "li") for item in items)
    if not shown:
        return EMPTY
    if classes:
        return Markup('<ul class="{}">{}</ul>').format(classes, shown)
    return Markup("<ul>{}</ul>").format(shown)


def note(text: object) -> Markup:
    """A paragraph in the note style (small, grey)."""
    return Markup('<p class="note">{}</p>').format(text)


def heading(text: object) -> Markup:
    """A section's sub-heading (``<h3>``)."""
    return Markup("<h3>{}</h3>").format(text)


# A link's target: a path relative to the page, never a scheme (javascript:, https:) or
# a host (//example.org): the index links only to files beside it.
_SCHEME_OR_HOST = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*:|[/\\]{2})")


def relative_link(path: str, text: object) -> Markup:
    """An ``<a>`` to a file beside the page.

    Raises:
        ValueError: ``path`` names a scheme or a host instead of a relative path.
    """
    if _SCHEME_OR_HOST.match(path):
        raise ValueError(f"not a relative path to link to: {path!r}")
    return Markup('<a href="{}">{}</a>').format(path, text)


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


def table(
    frame: pd.DataFrame, *, limit: int = ROW_LIMIT, more: str = "in exceptions.xlsx"
) -> Markup:
    """Any frame as a table, capped at ``limit`` rows with a note; a table of more than
    :data:`WIDE_COLUMNS` columns in a ``<div class="wide">``, which prints on landscape
    pages."""
    if frame.empty:
        return note("None.")
    shown = _blank_missing(frame.head(limit))
    # pandas escapes every header and value (escape=True): its text is HTML already
    body = shown.to_html(escape=True, index=False, na_rep="", border=0, classes="kpi")
    # Long column names (candidates_interviewed) may wrap after an underscore, so that a
    # wide table fits a printed page without cutting its right-hand columns.
    head, sep, rest = body.partition("</thead>")
    html = Markup(head.replace("_", "_<wbr>") + sep + rest)
    if len(frame) > limit:
        html += note(f"{len(frame) - limit} more {more}.")
    if len(frame.columns) > WIDE_COLUMNS:
        html = Markup('<div class="wide">{}</div>').format(html)
    return STYLE + html
