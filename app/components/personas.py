"""Persona cards: one clickable card per value tier, listing its personas.

A persona is a value tier x status group (Stars = top tier, Active; DESIGN
section 6); each tier's card lists its groups with their size and action.

The cards are drawn in the browser (``assets/persona_cards.js``) from the
plain data :func:`persona_card_data` returns, words and numbers already
written here: a k change redraws up to ten cards without building Dash
components for them (about twenty each), and the server's panels send the
same data (:data:`app.ids.PERSONA_CARDS_DATA`).
"""

from __future__ import annotations

import pandas as pd

from app import theme
from app.components.money import amount_parts
from segmentation import schema


def persona_card_data(
    customers: pd.DataFrame,
    personas: pd.DataFrame | None,
    mask: pd.Series | None = None,
    selected_cluster: int | None = None,
) -> list[dict]:
    """Return what each value cluster's card shows, highest value first.

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
        The card drawn as selected; the others are then dimmed.

    Returns
    -------
    list of dict
        One per cluster, plain JSON data (``assets/persona_cards.js`` draws
        it): ``cluster`` (int), ``tier`` (``"High value"``), ``colour`` (the
        tier's colour, :func:`app.theme.tier_colour`), ``size`` (``"102
        customers · 24.6 % of revenue"``), ``medians`` (``"median: 34 days
        since last order, 4 orders, "``), ``spend`` (the median spend,
        :func:`app.components.money.amount_parts`: drawn with the page's
        currency, then ``" spent"``), ``groups`` (a list of ``{"persona",
        "status", "size", "action"}``, largest first; ``status`` and ``size``
        None when unknown), ``selected_words`` (``"12 selected"``, or None
        without a selection), ``selected`` and ``dimmed`` (bool), ``title``
        and ``label`` (the card's tooltip and its accessible name: it is a
        button for the keyboard and screen readers).
    """
    total_revenue = float(customers[schema.MONETARY].sum()) or 1.0
    groups = customers.groupby(schema.VALUE_CLUSTER)
    k = int(customers[schema.VALUE_CLUSTER].max()) + 1 if len(customers) else 0
    cards = []
    for cluster, rows in sorted(groups, key=lambda item: -item[0]):
        n_selected = None if mask is None else int(mask[rows.index].sum())
        cards.append(
            _card(
                int(cluster),
                theme.tier_colour(cluster, k),
                rows,
                _groups_of(personas, cluster),
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
    if isinstance(personas.index, pd.MultiIndex):
        rows = personas.xs(cluster, level=0, drop_level=False)
    else:  # one persona per tier (a run saved before statuses)
        rows = personas.loc[[cluster]]
    if schema.CUSTOMER_STATUS in personas.index.names:
        rows = rows.reset_index(level=schema.CUSTOMER_STATUS)
    if "customers" in rows:
        rows = rows.sort_values("customers", ascending=False, kind="stable")
    return rows


def _group(row: pd.Series) -> dict:
    status = row.get(schema.CUSTOMER_STATUS)
    size = row.get("customers")
    return {
        "persona": str(row.get(schema.PERSONA, "")),
        "status": status if isinstance(status, str) else None,
        "size": theme.fmt_count(size, "customer") if pd.notna(size) else None,
        "action": str(row.get("action", "")),
    }


def _card(
    cluster, colour, rows, info, total_revenue, n_selected, selected, dimmed=False
) -> dict:
    first = rows.iloc[0]
    tier = f"{first[schema.VALUE_TIER]} value"
    medians = rows[[schema.RECENCY_DAYS, schema.FREQUENCY, schema.MONETARY]].median()
    share = 100 * rows[schema.MONETARY].sum() / total_revenue
    size = theme.fmt_count(len(rows), "customer")
    return {
        "cluster": cluster,
        "tier": tier,
        "colour": colour,
        "size": f"{size} · {theme.fmt_pct(share)} of revenue",
        "medians": (
            f"median: {theme.fmt_count(medians[schema.RECENCY_DAYS], 'day')} "
            "since last order, "
            f"{theme.fmt_count(medians[schema.FREQUENCY], 'order')}, "
        ),
        "spend": amount_parts(medians[schema.MONETARY]),
        "groups": [_group(row) for _, row in info.iterrows()],
        "selected_words": (
            None if n_selected is None else f"{theme.fmt_int(n_selected)} selected"
        ),
        "selected": bool(selected),
        "dimmed": bool(dimmed),
        "title": f"Select the {tier} tier's customers ({size})",
        "label": f"{tier} tier, {size}: select its customers",
    }
