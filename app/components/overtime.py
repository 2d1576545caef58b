"""The over-time panel: churn risk and value ahead per tier, the check, tier moves.

DESIGN section 10. Its content comes from a background job of its own
(:mod:`app.callbacks.overtime`) after the first panels: the lifetime models
(BG/NBD + Gamma-Gamma) in words or the engine's reason for withholding them, a
table per value tier (median ``p_alive``, expected orders, CLV), the holdout
plot (:mod:`app.figures.holdout`) and the Sankey of tier moves
(:mod:`app.figures.sankey`) with the revenue of the customers who moved down.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from app import ids, theme
from app.components.money import money
from app.components.panels import graph, panel
from segmentation import schema

#: "Compare with N days earlier": the choices, and the app's default.
COMPARE_CHOICES: tuple[int, ...] = (30, 60, 90, 180, 365)
DEFAULT_COMPARE_DAYS = 90
#: "Holdout days": 0 = no check.
HOLDOUT_CHOICES: tuple[int, ...] = (0, 30, 60, 90, 180)
DEFAULT_HOLDOUT_DAYS = 90
#: What the panel says until the job has answered.
COMING = "Churn risk, value ahead and tier moves are computed after the panels above…"
NOTE = (
    "p_alive: the probability that a customer still buys (BG/NBD). Expected "
    "orders and CLV are the models' forecasts for the next days, CLV in revenue "
    "(no margin), discounted to the run's date. Tier moves place every customer "
    "N days earlier with the same fitted tiers; click a link or a tier to select "
    "those customers."
)


def _select(component_id: str, label: str, choices, value: int, words) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=component_id, className="control-label"),
            dbc.Select(
                id=component_id,
                options=[{"label": words(n), "value": n} for n in choices],
                value=value,
                size="sm",
            ),
        ],
        className="overtime-control",
    )


def overtime_panel() -> dbc.Card:
    """Return the over-time panel, empty until its job answers.

    Ids: ``ids.COMPARE_DAYS``, ``ids.HOLDOUT_DAYS`` (the two settings),
    ``ids.OVERTIME_STATUS``, ``ids.LIFETIME_MODEL``, ``ids.LIFETIME_TIERS``,
    ``ids.HOLDOUT_GRAPH``, ``ids.MIGRATION_SANKEY``, ``ids.MIGRATION_TEXT``,
    and the store of what the job has ready (``ids.OVERTIME_STORE``).
    """
    controls = html.Div(
        [
            _select(
                ids.COMPARE_DAYS,
                "Compare with N days earlier",
                COMPARE_CHOICES,
                DEFAULT_COMPARE_DAYS,
                lambda n: f"{n} days",
            ),
            _select(
                ids.HOLDOUT_DAYS,
                "Holdout days (check the models)",
                HOLDOUT_CHOICES,
                DEFAULT_HOLDOUT_DAYS,
                lambda n: f"{n} days" if n else "none",
            ),
        ],
        className="overtime-controls",
        style={"display": "flex", "gap": "1.5rem", "flexWrap": "wrap"},
    )
    body = dbc.Row(
        [
            dbc.Col(
                [
                    html.H3("Churn risk and value ahead", className="mt-2 part-title"),
                    html.Div(id=ids.LIFETIME_MODEL, className="small"),
                    html.Div(id=ids.LIFETIME_TIERS),
                    graph(ids.HOLDOUT_GRAPH, 300),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H3("Tier moves", className="mt-2 part-title"),
                    html.Div(id=ids.MIGRATION_TEXT, className="small"),
                    graph(ids.MIGRATION_SANKEY, 380),
                ],
                lg=6,
            ),
        ],
        className="g-3",
    )
    return html.Div(
        panel(
            "Customers over time",
            controls,
            html.Div(
                COMING,
                id=ids.OVERTIME_STATUS,
                className="panel-coming",
                role="status",
                **{"aria-live": "polite"},
            ),
            body,
            html.Div(NOTE, className="panel-note"),
            dcc.Store(id=ids.OVERTIME_STORE, storage_type="memory"),
            dcc.Store(id=ids.OVERTIME_REQUEST, storage_type="memory"),
            info=NOTE,
        ),
        id=ids.OVERTIME_PANEL,
    )


def model_in_words(report: dict | None) -> list:
    """Return the lifetime models in words, or the engine's reason for none.

    Parameters
    ----------
    report : dict or None
        The run report's ``lifetime`` object (``model``, ``time_unit``,
        ``bgnbd``, ``gamma_gamma``, ``monthly_discount_rate``, ``withheld``,
        ``notes``, ``data``).
    """
    if not report:
        return [html.P("The lifetime models were not fitted.")]
    if report.get("withheld"):
        return [
            html.P(
                [html.B("No lifetime numbers: "), report["withheld"] + "."],
                className="lifetime-withheld",
            )
        ]
    data, bg, gg = report["data"], report["bgnbd"], report.get("gamma_gamma")
    rate = float(report["monthly_discount_rate"])
    yearly = 100 * ((1 + rate) ** 12 - 1)
    lines = [
        html.P(
            f"{report['model']}, fitted on {theme.fmt_int(data['customers'])} "
            f"customers ({theme.fmt_int(data['repeat_customers'])} with a repeat "
            f"order) over {theme.fmt_int(data['history_days'])} days; time unit: "
            f"{report['time_unit']}."
        ),
        html.P(
            "Orders (BG/NBD): purchase rate r = "
            f"{bg['r']:.3g}, α = {bg['alpha']:.3g}; drop-out a = {bg['a']:.3g}, "
            f"b = {bg['b']:.3g}."
            + (
                f" Spend per order (Gamma-Gamma): p = {gg['p']:.3g}, "
                f"q = {gg['q']:.3g}, v = {gg['v']:.3g}."
                if gg
                else ""
            )
        ),
        html.P(
            f"CLV discounted at {100 * rate:g} % a month (about {yearly:.1f} % a "
            "year); revenue, no margin applied."
        ),
    ]
    lines += [
        html.P(note, className="text-warning") for note in report.get("notes", [])
    ]
    return lines


def tier_table(
    customers: pd.DataFrame,
    columns: tuple[str, str, str, str],
    tiers: list[str],
    mask: pd.Series | None = None,
) -> dbc.Table | html.P:
    """Return per value tier: customers, median p_alive, expected orders, CLV.

    Parameters
    ----------
    customers : pandas.DataFrame
        The over-time run's customers (with the lifetime ``columns``).
    columns : tuple of str
        ``(p_alive, expected_orders_<h>d, expected_spend_per_order,
        clv_<h>d)`` (:attr:`segmentation.lifetime.LifetimeSettings.columns`).
    tiers : list of str
        Value tiers from the lowest; the table lists the highest first.
    mask : pandas.Series of bool, optional
        The selection: a last row for it.

    Returns
    -------
    dash_bootstrap_components.Table or html.P
        Rows per tier and "All customers" (and "Selection"): median p_alive
        (0..1, two decimals), the sums of expected orders and of CLV; a line
        saying there are none when the models were withheld (all NaN).
    """
    p_alive, orders, _spend, value = columns
    if customers[p_alive].isna().all():
        return html.P("No churn risk or CLV per tier: see why above.")
    orders_days = orders.removeprefix("expected_orders_").removesuffix("d")
    value_days = value.removeprefix("clv_").removesuffix("d")
    head = html.Thead(
        html.Tr(
            [
                html.Th("Value tier"),
                html.Th("Customers", className="num"),
                html.Th("Median p_alive", className="num"),
                html.Th(f"Expected orders, next {orders_days} days", className="num"),
                html.Th(f"CLV, next {value_days} days", className="num"),
            ]
        )
    )
    groups = [
        (t, customers[customers[schema.VALUE_TIER] == t]) for t in reversed(tiers)
    ]
    groups.append(("All customers", customers))
    if mask is not None:
        groups.append(("Selection", customers[mask.to_numpy()]))
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(theme.fmt_int(len(rows)), className="num"),
                html.Td(_median(rows[p_alive]), className="num"),
                html.Td(theme.fmt_int(rows[orders].sum()), className="num"),
                html.Td(money(float(rows[value].sum())), className="num"),
            ],
            className="table-active" if name == "Selection" else None,
        )
        for name, rows in groups
    ]
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        bordered=False,
        hover=True,
        className="lifetime-tiers small",
    )


def _median(values: pd.Series) -> str:
    values = values.dropna()
    return f"{values.median():.2f}" if len(values) else "–"


def moves_in_words(report: dict) -> list:
    """Return the tier moves in words: who moved down (and their revenue), up, in.

    Parameters
    ----------
    report : dict
        The run's ``migration.report`` (``tier_directions``: customers and
        revenue per direction; ``revenue``; ``days``; ``compared_as_of``).
    """
    per = report["tier_directions"]
    total = float(report["revenue"]) or 1.0
    down = per["down"]
    share = theme.fmt_pct(100 * down["revenue"] / total)
    first = (
        [
            html.B(f"{theme.fmt_count(down['customers'], 'customer')} moved down"),
            " a value tier since ",
            report["compared_as_of"],
            ", with revenue ",
            html.B(money(down["revenue"])),
            f" ({share} of all revenue).",
        ]
        if down["customers"]
        else [
            html.B("Nobody moved down"),
            f" a value tier since {report['compared_as_of']}.",
        ]
    )
    rest = (
        f" {theme.fmt_int(per['up']['customers'])} moved up, "
        f"{theme.fmt_int(per['same']['customers'])} stayed, "
        f"{theme.fmt_int(per['in']['customers'])} are new customers"
        + (
            f", {theme.fmt_int(per['unranked']['customers'])} moved to or from "
            "Unclustered"
            if per.get("unranked", {}).get("customers")
            else ""
        )
        + f" (of {theme.fmt_int(report['customers'])})."
    )
    return [html.P([*first, rest], className="migration-words")]
