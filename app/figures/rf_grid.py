"""The RF grid: customers (or revenue) per recency score × frequency score.

A 5 × 5 heatmap, R score up (5 = most recent, at the top) and F score across (5 =
most orders, at the right), each cell with its count in bold and the selection's
count under it. The 10 RFM segments of :data:`segmentation.features.RF_SEGMENTS`
(DESIGN section 5) are rectangles of cells: each is outlined and its name sits at
the top of its block (pure: ``DataFrame -> go.Figure``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app import theme
from app.figures._base import MARGIN
from app.figures.grid import GRID_METRICS
from segmentation import schema
from segmentation.features import RF_SEGMENTS, RFM_SEGMENT_NAMES

#: The score levels of both axes, worst first.
RF_SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
#: Segment labels: font size, width of a one-column label line in characters.
RF_LABEL_FONT = 10
RF_LABEL_CHARS = 10


def rf_counts(
    customers: pd.DataFrame, metric: str = "customers", mask: pd.Series | None = None
) -> pd.DataFrame:
    """Return the R score × F score table of customers or revenue.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with ``r_score``, ``f_score`` (1..5) and
        ``monetary``.
    metric : {"customers", "revenue"}
        Count customers, or sum their ``monetary``.
    mask : pandas.Series of bool, optional
        Aligned with ``customers``: count only the selection.

    Returns
    -------
    pandas.DataFrame of shape (5, 5)
        Index R score 1..5, columns F score 1..5; zeros where a cell is empty.

    Raises
    ------
    ValueError
        If ``metric`` is not one of ``GRID_METRICS``.
    """
    if metric not in GRID_METRICS:
        raise ValueError(f"metric={metric!r} should be one of {GRID_METRICS}")
    rows = customers if mask is None else customers[mask.to_numpy()]
    groups = rows.groupby([schema.R_SCORE, schema.F_SCORE])
    counts = groups.size() if metric == "customers" else groups[schema.MONETARY].sum()
    table = counts.unstack() if len(counts) else pd.DataFrame()  # noqa: PD010
    return table.reindex(index=list(RF_SCORES), columns=list(RF_SCORES)).fillna(0)


def segment_blocks() -> dict[str, tuple[int, int, int, int]]:
    """Return each segment's block of cells as ``(r_min, r_max, f_min, f_max)``.

    Read from :data:`RF_SEGMENTS`, in the order of ``RFM_SEGMENT_NAMES``; every
    segment of DESIGN section 5 is a rectangle of cells.
    """
    cells: dict[str, list[tuple[int, int]]] = {}
    for (r, f), name in RF_SEGMENTS.items():
        cells.setdefault(name, []).append((r, f))
    blocks = {}
    for name in RFM_SEGMENT_NAMES:
        rs, fs = zip(*cells[name], strict=True)
        blocks[name] = (min(rs), max(rs), min(fs), max(fs))
    return blocks


def rf_grid(
    customers: pd.DataFrame,
    metric: str = "customers",
    mask: pd.Series | None = None,
    currency: str | None = None,
) -> go.Figure:
    """Heatmap of customers (or revenue) per R score × F score, with the segments.

    Each cell shows its ``metric`` in bold and, when ``mask`` is given, how many
    of the selection fall in it ("selected: n"). The hover gives the cell's
    segment, R, F, customers, share of revenue (and the selection). A click
    reports the cell as ``x`` = F score, ``y`` = R score. Revenue is written
    with ``currency`` (None: ``theme.CURRENCY``; ``""``: no symbol).
    """
    whole = rf_counts(customers, "customers")
    revenue = rf_counts(customers, "revenue")
    coloured = whole if metric == "customers" else revenue
    chosen = None if mask is None else rf_counts(customers, "customers", mask)
    total = float(revenue.to_numpy().sum())
    if metric == "customers":
        fmt = theme.fmt_int
    else:

        def fmt(value):
            return theme.fmt_money(value, currency=currency)

    label_lines = {
        (r_max, f): len(_label(name, f_min == f_max).split("<br>"))
        for name, (_, r_max, f_min, f_max) in segment_blocks().items()
        for f in range(f_min, f_max + 1)
    }
    text, hover = [], []
    for r in RF_SCORES:
        text_row, hover_row = [], []
        for f in RF_SCORES:
            picked = None if chosen is None else chosen.loc[r, f]
            share = 100 * revenue.loc[r, f] / total if total else 0.0
            room = label_lines.get((r, f), 1)
            text_row.append(_cell_text(fmt(coloured.loc[r, f]), picked, room))
            hover_row.append(_cell_hover(r, f, whole.loc[r, f], share, picked))
        text.append(text_row)
        hover.append(hover_row)
    fig = go.Figure(
        go.Heatmap(
            z=coloured.to_numpy(),
            x=list(RF_SCORES),
            y=list(RF_SCORES),
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            textfont={"size": 10},
            colorscale=theme.SEQUENTIAL_SCALE,
            showscale=False,
            hovertemplate="%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    _draw_segments(fig)
    scores = {"tickmode": "array", "tickvals": list(RF_SCORES), "showgrid": False}
    fig.update_layout(
        template=theme.TEMPLATE,
        margin=MARGIN,
        xaxis={"title": "F score (5 = most orders)", "side": "top", **scores},
        yaxis={"title": "R score (5 = most recent)", **scores},
        clickmode="event",
    )
    return fig


def _draw_segments(fig: go.Figure) -> None:
    """Outline each segment's block and write its name at the block's top."""
    for name, (r_min, r_max, f_min, f_max) in segment_blocks().items():
        fig.add_shape(
            type="rect",
            x0=f_min - 0.5,
            x1=f_max + 0.5,
            y0=r_min - 0.5,
            y1=r_max + 0.5,
            line={"color": "#1d2733", "width": 2},
            name=name,
        )
        fig.add_annotation(
            text=_label(name, f_min == f_max),
            name=name,
            x=(f_min + f_max) / 2,
            y=r_max + 0.45,
            yanchor="top",
            showarrow=False,
            font={"size": RF_LABEL_FONT, "color": "#1d2733"},
            bgcolor="rgba(255, 255, 255, 0.8)",
            borderpad=1,
        )


def _label(name: str, one_column: bool) -> str:
    """Return a segment's name, on two lines if it is long and its block narrow."""
    narrow = one_column and len(name) > RF_LABEL_CHARS
    return name.replace(" ", "<br>", 1) if narrow else name


def _cell_text(value: str, picked, room: int = 1) -> str:
    """Count in bold, under the segment label; the selection's count below.

    ``room`` empty lines come first, so that the centred text clears a label of
    that many lines at the top of the cell (every cell gets at least one, so
    that the counts of a row line up).
    """
    parts = [""] * room + [f"<b>{value}</b>"]
    if picked is not None:
        parts.append(f"selected: {theme.fmt_int(picked)}")
    return "<br>".join(parts)


def _cell_hover(r: int, f: int, n, share: float, picked) -> str:
    parts = [
        f"<b>{RF_SEGMENTS[r, f]}</b>",
        f"R score {r} · F score {f}",
        f"{theme.fmt_int(n)} customers",
        f"{theme.fmt_pct(share)} of revenue",
    ]
    if picked is not None:
        parts.append(f"selected: {theme.fmt_int(picked)}")
    return "<br>".join(parts)
