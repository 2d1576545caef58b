"""Name every customer: value tier, status, persona, purchase style, segment.

The naming rules themselves live in :mod:`segmentation.personas`; this module
applies them to the fitted models (value tiers, status, purchase style) and
assembles the labelled customer table of DESIGN section 8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.models._methods import UNCLUSTERED, UNCLUSTERED_LABEL
from segmentation.models._purchase_style import PurchaseStyle
from segmentation.models._status import RecencyStatus
from segmentation.models._value_tiers import ValueTiers
from segmentation.personas import (
    grid_label,
    name_personas,
    segment_name,
    tier_position,
)


def label_customers(
    features: pd.DataFrame,
    value_model: ValueTiers,
    style_model: PurchaseStyle,
    status_model: RecencyStatus,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the labelled customer table and the persona table.

    Parameters
    ----------
    features : pandas.DataFrame of shape (n_customers, len(FEATURE_COLUMNS))
        Index ``customer_id``; the models were fitted on these rows, in order.
    value_model : ValueTiers
        Fitted; ``labels_`` gives each row's value_cluster.
    style_model : PurchaseStyle
        Fitted; ``styles_`` and ``reasons_`` give each row's style.
    status_model : RecencyStatus
        Fitted; gives each row's status.

    Returns
    -------
    customers : pandas.DataFrame of shape (n_customers, len(OUTPUT_COLUMNS))
        Columns ``schema.OUTPUT_COLUMNS``; RangeIndex.
    personas : pandas.DataFrame
        One row per non-empty value tier x status group
        (:func:`segmentation.personas.name_personas`).
    """
    clusters = value_model.labels_
    k = len(value_model.tier_names_)
    # HDBSCAN's noise (-1) is its own group, "Unclustered", in every table.
    tier = np.asarray([*value_model.tier_names_, UNCLUSTERED])[clusters]
    status = status_model.predict(features).to_numpy()
    style = style_model.styles_.to_numpy()
    grouped = features.assign(
        **{schema.VALUE_CLUSTER: clusters, schema.CUSTOMER_STATUS: status}
    )
    personas = _personas(grouped, k, value_model.tier_names_)
    persona = personas[schema.PERSONA].reindex(
        pd.MultiIndex.from_arrays([clusters, status])
    )
    positions = np.asarray([*(tier_position(c, k) for c in range(k)), UNCLUSTERED])
    cells = pd.DataFrame(
        {"tier": tier, "position": positions[clusters], "style": style}
    )
    # Name each distinct (tier, style) cell once, then spread to the customers.
    names = cells.drop_duplicates().assign(
        segment=lambda c: [segment_name(t, s) for t, s in zip(c.tier, c["style"])],
        grid=lambda c: [
            UNCLUSTERED if p == UNCLUSTERED else grid_label(p, s)
            for p, s in zip(c.position, c["style"])
        ],
    )
    named = cells.merge(names, on=["tier", "position", "style"], how="left")
    labels = pd.DataFrame(
        {
            schema.VALUE_CLUSTER: clusters.astype("int64"),
            schema.VALUE_TIER: tier,
            schema.CUSTOMER_STATUS: status,
            schema.PERSONA: persona.to_numpy(),
            schema.PURCHASE_STYLE: style,
            schema.STYLE_REASON: style_model.reasons_.to_numpy(),
            schema.SEGMENT: named["segment"].to_numpy(),
            schema.GRID_LABEL: named["grid"].to_numpy(),
        },
        index=features.index,
    )
    customers = features.join(labels).reset_index()
    return customers.loc[:, list(schema.OUTPUT_COLUMNS)], personas


#: What the persona table says of the Unclustered customers of an HDBSCAN run.
UNCLUSTERED_DESCRIPTION = (
    "HDBSCAN put these customers in no dense group of frequency and spend"
)
UNCLUSTERED_ACTION = "Look at them one by one: no tier's campaign was made for them"


def _personas(grouped: pd.DataFrame, k: int, tiers: tuple[str, ...]) -> pd.DataFrame:
    """Personas of the tiers, then one "Unclustered" row per status of the noise.

    Revenue shares stay shares of every customer's spend, Unclustered included.
    """
    noise = grouped[schema.VALUE_CLUSTER].to_numpy() == UNCLUSTERED_LABEL
    if not noise.any():
        return name_personas(grouped, k, tiers)
    total = grouped[schema.MONETARY].sum()
    clustered = grouped[~noise]
    personas = name_personas(clustered, k, tiers)
    scale = clustered[schema.MONETARY].sum() / total if total > 0 else 0.0
    personas["revenue_share"] = personas["revenue_share"] * scale
    rows = grouped[noise].groupby(schema.CUSTOMER_STATUS, sort=True)
    extra = rows.agg(
        customers=(schema.MONETARY, "size"),
        revenue=(schema.MONETARY, "sum"),
        median_r_score=(schema.R_SCORE, "median"),
        median_f_score=(schema.F_SCORE, "median"),
        median_recency_days=(schema.RECENCY_DAYS, "median"),
        median_frequency=(schema.FREQUENCY, "median"),
        median_monetary=(schema.MONETARY, "median"),
    )
    extra = extra.assign(
        **{
            schema.VALUE_TIER: UNCLUSTERED,
            schema.PERSONA: UNCLUSTERED,
            "description": [
                f"{UNCLUSTERED_DESCRIPTION} ({status}): median "
                f"{row.median_recency_days:,.0f} days since the last order, "
                f"{row.median_frequency:,.0f} orders, {row.median_monetary:,.0f} spent"
                for status, row in extra.iterrows()
            ],
            "action": UNCLUSTERED_ACTION,
            "revenue_share": extra["revenue"] / total if total > 0 else 0.0,
        }
    ).drop(columns="revenue")
    extra.index = pd.MultiIndex.from_arrays(
        [np.full(len(extra), UNCLUSTERED_LABEL), extra.index],
        names=[schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS],
    )
    return pd.concat([extra[personas.columns], personas])
