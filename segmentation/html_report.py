"""A run as a printable HTML page for people: receipt, tiers, personas, grids, k.

:func:`render_html_report` turns a run (the :class:`PreparedData` and the
:class:`Segmentation` that :func:`segmentation.reports.run_report` reads) into
one self-contained HTML file: no external stylesheet, script, font or image, so
it opens offline, mails as one attachment and prints on A4 (a page per section).
The command line writes it with ``--html FILE``; the app offers it beside the
CSV download.

Sections, in order: the cleaning receipt (lines read, each bucket that took a
line and why, lines kept, customers) with examples of the lines left out, the
assumptions made about the file and the columns used; the value tiers (size,
revenue, median RFM) and their personas (tier × status); the value tier ×
purchase style grid; the R × F score grid with its ten segments; the k
diagnostics (each measure against k, its vote, the recommended k) and the
methods compared. Figures are inline SVG or coloured table cells, drawn by
:mod:`segmentation._report_figures` in the app's colour-blind-safe colours.

Every text that comes from the file (its name, headers, customer ids, stock
codes) is escaped: the template autoescapes (Jinja2, ``autoescape=True``) and
the figures escape their own text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

import jinja2
import pandas as pd
from markupsafe import Markup

from segmentation import _report_figures as figures
from segmentation import schema
from segmentation._report_template import STYLE, TEMPLATE
from segmentation.cleaning import REASON_DESCRIPTIONS
from segmentation.features import RF_SEGMENTS, RFM_SEGMENT_NAMES
from segmentation.reports import run_report

if TYPE_CHECKING:
    from segmentation.results import PreparedData, Segmentation

__all__ = ["PRODUCT", "render_html_report"]

#: The product's name, on the report's title and footer.
PRODUCT = "Customer Segmentation Studio"
#: How each clustering method is named for people.
METHOD_LABELS: dict[str, str] = {
    "kmeans": "k-means",
    "gmm": "Gaussian mixture",
    "ward": "Ward",
    "hdbscan": "HDBSCAN",
    "value_score": "value score (fallback)",
    "equal_bands": "equal bands (fallback)",
}
#: The k sweep's measures: (column, name, what is better).
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("inertia", "Inertia", "the knee"),
    ("silhouette", "Silhouette", "higher"),
    ("davies_bouldin", "Davies–Bouldin", "lower"),
    ("calinski_harabasz", "Calinski–Harabasz", "higher"),
    ("stability", "Stability", "higher"),
)
#: The receipt's row names (buckets of :class:`segmentation.cleaning.LineReason`).
RECEIPT_LABELS: dict[str, str] = {
    "read": "Lines read",
    "summary_row": "Summary row",
    "missing_customer_id": "Missing customer id",
    "unparseable_date": "Unreadable date",
    "non_numeric_quantity_or_price": "Quantity or price not a number",
    "return": "Return",
    "cancelled_order": "Cancelled order",
    "non_positive_price": "Non-positive price",
    "non_product_code": "Not a product",
    "exact_duplicate": "Exact duplicate",
    "kept": "Lines kept",
}


def render_html_report(
    prepared: PreparedData,
    segmentation: Segmentation,
    report: dict | None = None,
    *,
    currency: str = "",
    generated_at: datetime | None = None,
) -> str:
    """Return the run as one self-contained, printable HTML page.

    Parameters
    ----------
    prepared : PreparedData
        The prepared file (``features``, ``report``, ``notes``, ``diagnostics``).
    segmentation : Segmentation
        One k's labelled customers (``customers``, ``personas``, ``value_model``).
    report : dict, optional
        :func:`segmentation.reports.run_report` of the same two objects; built
        from them when not given. The receipt, the assumptions, the column
        mapping, the k sweep and the method comparison are read from it.
    currency : str, default ""
        Symbol put before amounts (e.g. ``"£"``); a file does not say its
        currency, so none by default.
    generated_at : datetime, optional
        When the report was made (default: now, UTC); shown in the title block.

    Returns
    -------
    str
        An HTML5 document (UTF-8 text, about 40–80 kB): title with the file
        name, as-of date, k, method, generation time and product name; the
        sections listed in the module docstring. It references no URL.

    Notes
    -----
    Revenue is the sum of the customers' ``monetary`` (net spend: purchases
    less returns, in the file's currency). Medians are over the customers of a
    group. The tiers' colours are those of the app (viridis, lowest tier
    lightest); heat cells use ColorBrewer Blues.
    """
    report = run_report(prepared, segmentation) if report is None else report
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M %Z")
    customers = segmentation.customers
    tier_k = len(segmentation.value_model.tier_names_)
    colours = figures.tier_colours(max(tier_k, 1))
    method = report.get("method") or getattr(segmentation, "method", "kmeans")
    tiers = _tiers(customers, colours)
    input_ = report.get("input") or {}
    context = {
        "product": PRODUCT,
        "style": Markup(STYLE),  # our constant: inside <style>, entities do not decode
        "file": input_.get("file") or prepared.source_name,
        "file_format": input_.get("format") or prepared.file_format,
        "sheets": ", ".join(input_.get("sheets_read") or []),
        "sha256": input_.get("sha256") or prepared.sha256,
        "as_of": report.get("as_of") or prepared.as_of.date().isoformat(),
        "k": segmentation.k,
        "method_label": METHOD_LABELS.get(method, method),
        "generated_at": generated,
        "customers": len(customers),
        "receipt": _receipt(report["cleaning"]),
        "examples": _examples(report["cleaning"]),
        "assumptions": [
            *(input_.get("notes") or []),
            *(report["cleaning"].get("rules") or []),
        ],
        "mapping": list((report.get("mapping") or {}).items()),
        "tiers": tiers,
        "tier_bars": figures.tier_bars([{**t, "tier": t["name"]} for t in tiers]),
        "personas": _personas(segmentation.personas, colours),
        "styles": schema.PURCHASE_STYLES,
        "style_grid": _style_grid(customers, colours),
        "rf_scores": range(1, 6),
        "rf_grid": _rf_grid(customers),
        "rf_segments": _rf_segments(customers),
        "diagnostics": _diagnostics(report.get("diagnostics"), segmentation.k),
        "stability": report.get("stability"),
        "comparison": _comparison(report.get("method_comparison"), method),
        "seed": segmentation.seed,
        "anomaly_share": f"{segmentation.anomaly_share:.0%}",
        "versions": list((report.get("versions") or {}).items()),
    }
    return _template(currency).render(context)


@cache
def _template(currency: str) -> jinja2.Template:
    """Return the page template, its number filters using ``currency``."""
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    env.filters.update(
        int_fmt=lambda v: "–" if _missing(v) else f"{round(float(v)):,}",
        pct=lambda v: "–" if _missing(v) else f"{100 * float(v):.1f} %",
        money=lambda v: "–" if _missing(v) else _money(float(v), currency),
        days=lambda v: "–" if _missing(v) else _plural(float(v), "day"),
        orders=lambda v: "–" if _missing(v) else _plural(float(v), "order"),
    )
    return env.from_string(TEMPLATE)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _money(value: float, currency: str) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{abs(value):,.0f}"


def _plural(value: float, noun: str) -> str:
    text = f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"
    return f"{text} {noun}" + ("" if value == 1 else "s")


def _receipt(cleaning: dict) -> list[dict]:
    """Rows of the receipt: read, each bucket that took a line, kept."""
    rows_in = int(cleaning["rows_in"])
    counts = cleaning["counts"]

    def row(bucket: str, kind: str, count: int, label: str) -> dict:
        share = _share(count, rows_in)
        description = "" if kind == "read" else REASON_DESCRIPTIONS.get(bucket, "")
        return {
            "bucket": bucket,
            "kind": kind,
            "count": count,
            "label": label,
            "share": share,
            "description": description or "Every line of the file, header excluded.",
        }

    rows = [row("read", "read", rows_in, RECEIPT_LABELS["read"])]
    rows += [
        row(bucket, "drop", int(n), _bucket_label(bucket))
        for bucket, n in counts.items()
        if n and bucket != "kept"
    ]
    rows.append(row("kept", "kept", int(counts.get("kept", 0)), RECEIPT_LABELS["kept"]))
    return rows


def _share(count: int, total: int) -> str:
    """Return ``count / total`` in percent, "< 0.1 %" for a few lines of many."""
    if not total:
        return "–"
    share = 100 * count / total
    return "< 0.1 %" if 0 < share < 0.05 else f"{share:.1f} %"


def _bucket_label(bucket: str) -> str:
    return RECEIPT_LABELS.get(bucket) or bucket.replace("_", " ").capitalize()


def _examples(cleaning: dict) -> list[dict]:
    """Return the receipt's example lines as text cells (missing: empty)."""

    def cell(value: object) -> str:
        return (
            ""
            if _missing(value)
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )

    return [
        {
            "row": cell(ex.get("row")),
            "reason": _bucket_label(str(ex.get("reason", ""))),
            **{
                key: cell(ex.get(key))
                for key in (
                    "invoice_id",
                    "stock_code",
                    "quantity",
                    "unit_price",
                    "customer_id",
                )
            },
        }
        for ex in cleaning.get("examples") or []
    ]


def _colour(cluster: int, colours: tuple[str, ...]) -> str:
    return (
        colours[cluster] if 0 <= cluster < len(colours) else figures.UNCLUSTERED_COLOUR
    )


def _tiers(customers: pd.DataFrame, colours: tuple[str, ...]) -> list[dict]:
    """One dict per value tier, highest first: size, revenue and median RFM."""
    total_customers = len(customers)
    total_revenue = float(customers[schema.MONETARY].sum())
    table = customers.groupby(schema.VALUE_CLUSTER).agg(
        name=(schema.VALUE_TIER, "first"),
        customers=(schema.CUSTOMER_ID, "size"),
        revenue=(schema.MONETARY, "sum"),
        median_recency_days=(schema.RECENCY_DAYS, "median"),
        median_frequency=(schema.FREQUENCY, "median"),
        median_monetary=(schema.MONETARY, "median"),
    )
    rows = []
    for cluster, row in table.sort_index(ascending=False).iterrows():
        rows.append(
            {
                **row.to_dict(),
                "cluster": int(cluster),
                "colour": _colour(int(cluster), colours),
                "customer_share": row["customers"] / total_customers,
                "revenue_share": row["revenue"] / total_revenue
                if total_revenue
                else 0.0,
            }
        )
    return rows


def _personas(personas: pd.DataFrame, colours: tuple[str, ...]) -> list[dict]:
    """One dict per persona (tier × status), highest tier first, statuses in order."""
    table = personas.reset_index()
    order = table.sort_values(schema.VALUE_CLUSTER, ascending=False, kind="stable")
    return [
        {
            "persona": row[schema.PERSONA],
            "tier": row[schema.VALUE_TIER],
            "status": row.get(schema.CUSTOMER_STATUS) or "",
            "colour": _colour(int(row[schema.VALUE_CLUSTER]), colours),
            "customers": row["customers"],
            "revenue_share": row.get("revenue_share"),
            "description": row.get("description") or "",
            "action": row.get("action") or "",
        }
        for _, row in order.iterrows()
    ]


def _style_grid(customers: pd.DataFrame, colours: tuple[str, ...]) -> list[dict]:
    """Rows of the value tier × style grid, highest tier first."""
    keys = [schema.VALUE_CLUSTER, schema.PURCHASE_STYLE]
    cells = customers.groupby(keys).agg(
        customers=(schema.CUSTOMER_ID, "size"),
        revenue=(schema.MONETARY, "sum"),
        label=(schema.GRID_LABEL, "first"),
        tier=(schema.VALUE_TIER, "first"),
    )
    highest = float(cells["customers"].max()) if len(cells) else 0.0
    rows = []
    for cluster in sorted(cells.index.get_level_values(0).unique(), reverse=True):
        tier_cells = cells.loc[cluster]
        row_cells = []
        for style in schema.PURCHASE_STYLES:
            if style in tier_cells.index:
                cell = tier_cells.loc[style]
                n, revenue, label = (
                    int(cell["customers"]),
                    cell["revenue"],
                    cell["label"],
                )
            else:
                n, revenue, label = 0, 0.0, ""
            bg, fg = figures.heat_colour(n, highest)
            row_cells.append(
                {
                    "style": style,
                    "customers": n,
                    "revenue": revenue,
                    "label": label,
                    "bg": bg,
                    "fg": fg,
                }
            )
        rows.append(
            {
                "tier": tier_cells["tier"].iloc[0],
                "colour": _colour(int(cluster), colours),
                "cells": row_cells,
                "customers": int(tier_cells["customers"].sum()),
                "revenue": float(tier_cells["revenue"].sum()),
            }
        )
    return rows


def _rf_counts(customers: pd.DataFrame) -> pd.DataFrame:
    """Return customers and revenue per (r_score, f_score), all 25 cells."""
    cells = pd.MultiIndex.from_product([range(1, 6), range(1, 6)], names=["r", "f"])
    grouped = customers.groupby([schema.R_SCORE, schema.F_SCORE]).agg(
        customers=(schema.CUSTOMER_ID, "size"), revenue=(schema.MONETARY, "sum")
    )
    return grouped.reindex(cells, fill_value=0)


def _rf_grid(customers: pd.DataFrame) -> list[dict]:
    """Rows R = 5 (top) .. 1 of the R × F grid: each cell's segment and customers."""
    counts = _rf_counts(customers)
    highest = float(counts["customers"].max())
    rows = []
    for r in range(5, 0, -1):
        cells = []
        for f in range(1, 6):
            n = int(counts.loc[(r, f), "customers"])
            bg, fg = figures.heat_colour(n, highest)
            cells.append(
                {"customers": n, "segment": RF_SEGMENTS[r, f], "bg": bg, "fg": fg}
            )
        rows.append({"r": r, "cells": cells})
    return rows


def _rf_segments(customers: pd.DataFrame) -> list[dict]:
    """Return the ten RFM segments: customers and revenue (cells summed)."""
    counts = _rf_counts(customers)
    names = [RF_SEGMENTS[int(r), int(f)] for r, f in counts.index]
    totals = counts.groupby(names).sum()
    all_customers = float(totals["customers"].sum()) or 1.0
    all_revenue = float(totals["revenue"].sum())
    return [
        {
            "name": name,
            "customers": int(totals.loc[name, "customers"]),
            "customer_share": totals.loc[name, "customers"] / all_customers,
            "revenue": float(totals.loc[name, "revenue"]),
            "revenue_share": totals.loc[name, "revenue"] / all_revenue
            if all_revenue
            else 0.0,
        }
        for name in RFM_SEGMENT_NAMES
    ]


def _number(value: object, column: str) -> str:
    if _missing(value):
        return "–"
    return (
        f"{float(value):,.1f}"
        if column in ("inertia", "calinski_harabasz")
        else f"{float(value):.3f}"
    )


def _diagnostics(diagnostics: dict | None, k: int) -> dict | None:
    """Return the k sweep as table rows, an SVG curve per measure, the votes."""
    if not diagnostics or not diagnostics.get("table"):
        return None
    table = pd.DataFrame(diagnostics["table"]).sort_values("k")
    measures = [m for m in MEASURES if m[0] in table.columns]
    recommended = diagnostics.get("recommended_k")
    votes = diagnostics.get("votes") or {}
    names = {column: title for column, title, _ in MEASURES}
    names["inertia"] = "Inertia knee"
    return {
        "recommended_k": recommended,
        "rule": diagnostics.get("rule") or "",
        "measures": [{"column": c, "title": t} for c, t, _ in measures],
        "rows": [
            {
                "k": int(row["k"]),
                "tags": _k_tags(int(row["k"]), recommended, k),
                "cells": [_number(row[c], c) for c, _, _ in measures],
            }
            for _, row in table.iterrows()
        ],
        "curves": [
            figures.k_curve(
                list(zip(table["k"], table[column], strict=True)),
                title=title,
                better=better,
                recommended=recommended,
                chosen=k,
                vote=votes.get(column),
            )
            for column, title, better in measures
        ],
        "votes": [
            {"title": names.get(column, column), "k": vote}
            for column, vote in votes.items()
        ],
    }


def _k_tags(row_k: int, recommended: int | None, k: int) -> list[str]:
    """Return what a row of the k table is: "recommended", "this report"."""
    return [
        tag
        for tag, applies in (
            ("recommended", row_k == recommended),
            ("this report", row_k == k),
        )
        if applies
    ]


def _comparison(comparison: dict | None, method: str) -> dict | None:
    """Return the methods compared at this k as text cells (None: not compared)."""
    if not comparison or not comparison.get("table"):
        return None
    rows = []
    for row in comparison["table"]:
        name = row.get("method")
        kept = row.get("kept") or name
        label = METHOD_LABELS.get(name, name)
        if kept != name:
            label += f" (kept {METHOD_LABELS.get(kept, kept)})"
        share = row.get("smallest_group_share")
        rows.append(
            {
                "label": label,
                "chosen": name == method,
                "tiers": row.get("tiers", "–"),
                "silhouette": _number(row.get("silhouette"), "silhouette"),
                "davies_bouldin": _number(row.get("davies_bouldin"), "davies_bouldin"),
                "calinski_harabasz": _number(
                    row.get("calinski_harabasz"), "calinski_harabasz"
                ),
                "stability": _number(row.get("stability"), "stability"),
                "smallest": "–" if _missing(share) else f"{100 * share:.1f} %",
            }
        )
    return {
        "k": comparison.get("k"),
        "rows": rows,
        "rule": str(comparison.get("rule") or "").rstrip("."),
        "stability": comparison.get("stability") or "",
    }
