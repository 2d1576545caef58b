"""Name every customer: value tier, persona, purchase style, segment, grid label.

The naming rules themselves live in :mod:`segmentation.personas`; this module
applies them to a fitted value-tier model and purchase-style model and assembles
the labelled customer table of DESIGN section 8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.models._purchase_style import PurchaseStyle
from segmentation.models._value_tiers import ValueTiers
from segmentation.personas import (
    grid_label,
    name_personas,
    segment_name,
    tier_position,
)


def persona_table(value_model: ValueTiers, features: pd.DataFrame) -> pd.DataFrame:
    """Return the fitted value clusters' profile with their persona names.

    Parameters
    ----------
    value_model : ValueTiers
        Fitted.
    features : pandas.DataFrame
        The customers it was fitted on (``schema.RFM_COLUMNS`` at least).

    Returns
    -------
    pandas.DataFrame
        Index ``value_cluster``: ``ValueTiers.profile_`` columns (value_tier,
        customers, medians, revenue_share) plus persona, description, action.
    """
    profile = value_model.profile_
    return profile.join(name_personas(profile, features))


def label_customers(
    features: pd.DataFrame, value_model: ValueTiers, style_model: PurchaseStyle
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the labelled customer table and the persona table.

    Parameters
    ----------
    features : pandas.DataFrame of shape (n_customers, len(FEATURE_COLUMNS))
        Index ``customer_id``; both models were fitted on these rows, in order.
    value_model : ValueTiers
        Fitted; ``labels_`` gives each row's value_cluster.
    style_model : PurchaseStyle
        Fitted; ``styles_`` and ``reasons_`` give each row's style.

    Returns
    -------
    customers : pandas.DataFrame of shape (n_customers, len(OUTPUT_COLUMNS))
        Columns ``schema.OUTPUT_COLUMNS``; RangeIndex.
    personas : pandas.DataFrame
        See :func:`persona_table`.
    """
    personas = persona_table(value_model, features)
    clusters = value_model.labels_
    k = len(personas)
    tier = personas[schema.VALUE_TIER].to_numpy()[clusters]
    style = style_model.styles_.to_numpy()
    positions = np.asarray([tier_position(c, k) for c in range(k)])
    cells = pd.DataFrame(
        {"tier": tier, "position": positions[clusters], "style": style}
    )
    # Name each distinct (tier, style) cell once, then spread to the customers.
    names = cells.drop_duplicates().assign(
        segment=lambda c: [segment_name(t, s) for t, s in zip(c.tier, c["style"])],
        grid=lambda c: [grid_label(p, s) for p, s in zip(c.position, c["style"])],
    )
    named = cells.merge(names, on=["tier", "position", "style"], how="left")
    labels = pd.DataFrame(
        {
            schema.VALUE_CLUSTER: clusters.astype("int64"),
            schema.VALUE_TIER: tier,
            schema.PERSONA: personas[schema.PERSONA].to_numpy()[clusters],
            schema.PURCHASE_STYLE: style,
            schema.STYLE_REASON: style_model.reasons_.to_numpy(),
            schema.SEGMENT: named["segment"].to_numpy(),
            schema.GRID_LABEL: named["grid"].to_numpy(),
        },
        index=features.index,
    )
    customers = features.join(labels).reset_index()
    return customers.loc[:, list(schema.OUTPUT_COLUMNS)], personas
