"""Persona cards: one clickable card per value tier, listing its personas.

A persona is a value tier x status group (Stars = top tier, Active; DESIGN
section 6); each tier's card lists its groups with their size and action.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app import ids, theme
from app.components.money import money
from segmentation import schema


def persona_cards(
    customers: pd.DataFrame,
    personas: pd.DataFrame | None,
    mask: pd.Series | None = None,
    selected_cluster: int | None = None,
) -> list[html.Div]:
    """Return one card per value cluster, highest value first.

    Parameters
    ----------
    customers : pandas.DataFrame
        Labelled customers (``schema.OUTPUT_COLUMNS``); sizes, revenue shares and
        medians are computed from it.
    personas : pandas.DataFrame or None
        ``Segmentation.personas``: index (``value_cluster``, ``status``) with
        ``persona``, ``description``, ``action`` and ``customers``; each tier's
        groups are listed on its card. (A run saved before statuses existed has
        index ``value_cluster`` and one persona per tier.)
    mask : pandas.Series of bool, optional
        The selection; each card then shows how many of it fall in the cluster.
    selected_cluster : int, optional
        The card drawn as selected.

    Returns
    -------
    list of dash.html.Div
        Each with the pattern-matching id ``ids.persona_card(cluster)`` and
        ``n_clicks``; a button for the keyboard and screen readers (``role``,
        ``tabIndex``, ``aria-pressed``, a label naming the tier; Enter and
        Space click it: ``assets/keyboard.js``). With a card chosen, the
        others are dimmed (class ``dimmed``).
    """
    total_revenue = float(customers[schema.MONETARY].sum()) or 1.0
    groups = customers.groupby(schema.VALUE_CLUSTER)
    k = int(customers[schema.VALUE_CLUSTER].max()) + 1 if len(customers) else 0
    cards = []
    for cluster, rows in sorted(groups, key=lambda item: -item[0]):
        info = _groups_of(personas, cluster)
        n_selected = None if mask is None else int(mask[rows.index].sum())
        cards.append(
            _card(
                int(cluster),
                theme.tier_colour(cluster, k),
                rows,
                info,
                total_revenue,
                n_selected,
                selected=cluster == selected_cluster,
                dimmed=selected_cluster is not None and cluster != selected_cluster,
            )
        )
    return cards


def _groups_of(personas: pd.DataFrame | None, cluster: int) -> pd.DataFrame:
    """Return the tier's persona rows (one per status), largest first."""
    if personas is None or cluster not in personas.index.get_level_values(0):
        return pd.DataFrame(columns=[schema.PERSONA, "action", "customers"])
    rows = personas.xs(cluster, level=0, drop_level=False)
    if schema.CUSTOMER_STATUS in personas.index.names:
        rows = rows.reset_index(level=schema.CUSTOMER_STATUS)
    if "customers" in rows:
        rows = rows.sort_values("customers", ascending=False, kind="stable")
    return rows


def _group_line(row: pd.Series) -> html.Li:
    status = row.get(schema.CUSTOMER_STATUS)
    size = row.get("customers")
    head = [html.B(str(row.get(schema.PERSONA, "")))]
    if isinstance(status, str):
        head.append(f" · {status}")
    if pd.notna(size):
        head.append(f" · {theme.fmt_count(size, 'customer')}")
    return html.Li(
        [*head, html.Div(str(row.get("action", "")), className="text-muted")]
    )


def _card(
    cluster, colour, rows, info, total_revenue, n_selected, selected, dimmed=False
) -> html.Div:
    first = rows.iloc[0]
    tier = f"{first[schema.VALUE_TIER]} value"
    medians = rows[[schema.RECENCY_DAYS, schema.FREQUENCY, schema.MONETARY]].median()
    share = 100 * rows[schema.MONETARY].sum() / total_revenue
    size = theme.fmt_count(len(rows), "customer")
    body = [
        html.H3(tier, className="mb-1 persona-tier"),
        html.Div(
            f"{size} · {theme.fmt_pct(share)} of revenue", className="persona-size"
        ),
        html.Div(
            [
                f"median: {theme.fmt_count(medians[schema.RECENCY_DAYS], 'day')} "
                "since last order, "
                f"{theme.fmt_count(medians[schema.FREQUENCY], 'order')}, ",
                money(medians[schema.MONETARY]),
                " spent",
            ],
            className="small text-muted",
        ),
        html.Ul(
            [_group_line(row) for _, row in info.iterrows()],
            className="small mb-1 ps-3 persona-groups",
        ),
    ]
    if n_selected is not None:
        body.append(
            dbc.Badge(
                f"{theme.fmt_int(n_selected)} selected", color="dark", className="mt-1"
            )
        )
    classes = ["persona-card"]
    if selected:
        classes.append("selected")
    if dimmed:
        classes.append("dimmed")
    return html.Div(
        dbc.Card(
            dbc.CardBody(body),
            className="h-100",
            style={"borderTop": f"6px solid {colour}"},
        ),
        id=ids.persona_card(cluster),
        n_clicks=0,
        className=" ".join(classes),
        role="button",
        tabIndex="0",
        title=f"Select the {tier} tier's customers ({size})",
        **{
            "aria-pressed": "true" if selected else "false",
            "aria-label": f"{tier} tier, {size}: select its customers",
        },
    )
