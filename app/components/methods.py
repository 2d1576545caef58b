"""The "Method" choice beside k, and the panel comparing the four methods.

The value tiers can be clustered four ways (DESIGN sections 6, 7): k-means (the
default), a Gaussian mixture, Ward's hierarchical clustering and HDBSCAN. For
HDBSCAN, k is not the number of tiers but the smallest group it may form
(``ceil(n / 2k)`` customers: :func:`segmentation.models._methods.hdbscan_sizes`);
it finds the number of tiers itself and leaves the customers of no dense group
Unclustered. The comparison panel shows, for the k on screen, each method's
measures (:func:`segmentation.pipeline.compare`), the recommended method with
the rule that chose it and a button to use it.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import theme
from app.components.panels import panel
from segmentation import settings

#: Component ids (this module's own: the page's other ids are in app.ids).
METHOD_CHOICE = "method-choice"
METHOD_HELP = "method-help"
K_LABEL = "k-label"
METHOD_COMPARISON = "method-comparison"
METHOD_RULE = "method-rule"
METHOD_STATUS = "method-status"
USE_RECOMMENDED_METHOD = "use-recommended-method"
#: ``{"dataset", "k", "recommended"}`` of the comparison on screen.
COMPARISON_STORE = "method-comparison-store"
#: Set when the comparison at the view's k is not cached: starts its job
#: (:func:`app.callbacks.methods.compare_requested`).
COMPARISON_REQUEST = "method-comparison-request"
#: The rested k while HDBSCAN is the method (``assets/k_gates.js``): what a k
#: change triggers the help line with (:func:`app.callbacks.methods.method_help`).
METHOD_K = "method-k"

#: The methods in the app's words, in ``settings.METHODS`` order.
METHOD_LABELS: dict[str, str] = {
    "kmeans": "k-means",
    "gmm": "Gaussian mixture",
    "ward": "Ward",
    "hdbscan": "HDBSCAN",
}
#: What each method does, in a sentence (the choice's help line).
METHOD_HELP_TEXT: dict[str, str] = {
    "kmeans": "k-means: k round groups around their centres; the default.",
    "gmm": "Gaussian mixture: k elliptical groups of any tilt and spread; each "
    "customer goes to the most probable one.",
    "ward": "Ward: merges customers into k groups, always the pair that adds "
    f"least spread (fitted on at most {settings.WARD_SAMPLE:,} customers, the "
    "others join the nearest group).",
    "hdbscan": "HDBSCAN: finds dense groups itself and leaves customers of no "
    "group Unclustered (grey).",
}
K_LABEL_TIERS = "Value tiers (k)"
K_LABEL_HDBSCAN = (
    "k sets the smallest group: n / 2k customers; HDBSCAN finds the number of tiers"
)
assert tuple(METHOD_LABELS) == settings.METHODS


def method_label(method: str | None) -> str:
    """Return a method's name in words (``"gmm"`` -> ``"Gaussian mixture"``)."""
    method = method or settings.DEFAULT_METHOD
    return METHOD_LABELS.get(method, method)


def k_label(method: str | None) -> str:
    """Return the k slider's label: "Value tiers (k)", or HDBSCAN's size rule."""
    return K_LABEL_HDBSCAN if method == "hdbscan" else K_LABEL_TIERS


def hdbscan_note(fit_info: dict, n_tiers: int) -> str:
    """Return what HDBSCAN made of k, from its fit (``ValueTiers.fit_info_``).

    E.g. ``"Smallest group 50 customers (12.6 %): 3 tiers found, 43 customers
    Unclustered."`` The size is the one HDBSCAN kept: it starts at ``n / 2k``
    and halves (or doubles) it when that finds fewer than 2 (more than 10)
    groups.
    """
    size = fit_info.get("min_cluster_size")
    share = fit_info.get("min_cluster_share")
    left = int(fit_info.get("unclustered", 0))
    said = f"Smallest group {theme.fmt_count(size, 'customer')}"
    if share is not None:
        said += f" ({theme.fmt_pct(100 * share)})"
    return (
        f"{said}: {theme.fmt_count(n_tiers, 'tier')} found, "
        f"{theme.fmt_count(left, 'customer')} Unclustered."
    )


def method_choice() -> html.Div:
    """Return the "Method" radio buttons with their help line (beside k)."""
    return html.Div(
        [
            html.Label("Method", htmlFor=METHOD_CHOICE, className="control-label"),
            dbc.RadioItems(
                id=METHOD_CHOICE,
                value=settings.DEFAULT_METHOD,
                options=[
                    {"label": label, "value": value}
                    for value, label in METHOD_LABELS.items()
                ],
                inline=True,
                className="small",
            ),
            html.Div(
                METHOD_HELP_TEXT[settings.DEFAULT_METHOD],
                id=METHOD_HELP,
                className="hint small text-muted",
            ),
        ],
        className="method-choice",
    )


#: The comparison table's columns: (key in the comparison's table, heading,
#: hover help, formatter, better: "high" / "low" / None).
def _num(decimals: int):
    def fmt(value) -> str:
        return "–" if value is None else f"{float(value):.{decimals}f}"

    return fmt


def _share(value) -> str:
    return "–" if value is None else theme.fmt_pct(100 * float(value))


def _seconds(value) -> str:
    return "–" if value is None else f"{float(value):.2f} s"


COLUMNS: tuple[tuple[str, str, str, object], ...] = (
    ("tiers", "Tiers", "value tiers the method formed", lambda v: f"{int(v)}"),
    (
        "silhouette",
        "Silhouette",
        "how well each customer sits in its own tier rather than the next "
        "(-1..1, higher is better)",
        _num(2),
    ),
    (
        "davies_bouldin",
        "Davies–Bouldin",
        "how much tiers overlap relative to their spread (lower is better)",
        _num(2),
    ),
    (
        "calinski_harabasz",
        "Calinski–Harabasz",
        "spread between tiers over spread within them (higher is better)",
        _num(0),
    ),
    (
        "stability",
        "Stability",
        "mean adjusted Rand index of the tiers refitted on subsamples (0..1, "
        "higher is better)",
        _num(2),
    ),
    (
        "smallest_group_share",
        "Smallest group",
        "share of customers in the smallest tier",
        _share,
    ),
    (
        "unclustered_share",
        "Unclustered",
        "share of customers HDBSCAN left in no group",
        _share,
    ),
    ("fit_s", "Fit time", "seconds of one fit on all customers", _seconds),
)


def comparison_table(comparison: dict, chosen: str | None) -> html.Table:
    """Return the comparison as a table, a row per method.

    Parameters
    ----------
    comparison : dict
        :meth:`segmentation.models.MethodComparison.to_dict`.
    chosen : str or None
        The method on screen (its row is marked "shown").

    Returns
    -------
    dash.html.Table
        Rows in ``settings.METHODS`` order; the recommended method's row has
        the class ``recommended`` and says so; a method that fell back (kept
        another clustering) or lost the value order says that in its name cell.
    """
    chosen = chosen or settings.DEFAULT_METHOD
    head = html.Tr(
        [html.Th("Method")]
        + [html.Th(title, title=help_text) for _, title, help_text, _ in COLUMNS]
    )
    rows = []
    for row in comparison["table"]:
        method = row["method"]
        name = [method_label(method)]
        if row.get("kept") and row["kept"] != method:
            name.append(html.Div(f"fell back to {row['kept']}", className="hint"))
        elif row.get("monotone") is False:
            name.append(html.Div("out of value order", className="hint"))
        marks = []
        if method == comparison["recommended"]:
            marks.append(html.Span("recommended", className="badge bg-success ms-1"))
        if method == chosen:
            marks.append(html.Span("shown", className="badge bg-secondary ms-1"))
        cells = [html.Td([*name, *marks])]
        cells += [html.Td(fmt(row.get(key))) for key, _, _, fmt in COLUMNS]
        classes = " ".join(
            c
            for c, on in (
                ("recommended", method == comparison["recommended"]),
                ("shown", method == chosen),
            )
            if on
        )
        rows.append(html.Tr(cells, className=classes, **{"data-method": method}))
    return html.Table(
        [html.Thead(head), html.Tbody(rows)],
        className="table table-sm method-table",
    )


def method_panel():
    """Return the panel comparing the four methods at the chosen k.

    Its table, rule and button follow the comparison job
    (:func:`app.callbacks.methods.compare_at_k`); the button starts disabled.
    """
    use = dbc.Button(
        "Use recommended method",
        id=USE_RECOMMENDED_METHOD,
        color="success",
        outline=True,
        size="sm",
        disabled=True,
    )
    return panel(
        "Choosing the method",
        html.Div(
            [
                html.Span("Methods compared at the chosen k"),
                html.Span(id=METHOD_STATUS, className="small text-muted ms-2"),
            ],
            className="small",
        ),
        html.Div(
            "The four methods are compared once the panels are shown (a few seconds)…",
            id=METHOD_COMPARISON,
            className="method-comparison small",
        ),
        html.Div(id=METHOD_RULE, className="small text-muted"),
        html.Div(METHODS_NOTE, className="panel-note"),
        dcc.Store(id=COMPARISON_STORE, storage_type="memory"),
        dcc.Store(id=COMPARISON_REQUEST, storage_type="memory"),
        dcc.Store(id=METHOD_K, storage_type="memory"),
        extra=use,
        info=METHODS_NOTE,
    )


METHODS_NOTE = (
    "Each method clusters the same standardised log frequency and monetary. "
    "Silhouette, Davies–Bouldin and Calinski–Harabasz measure how well the "
    "tiers separate (Unclustered customers left out); stability is how much "
    "the tiers stay the same when refitted on subsamples. Each of these four "
    "measures votes for its best method and the majority is recommended."
)
