"""Every naming rule, in one place (DESIGN section 6).

* :func:`tier_names` – ordered names of the ``k`` value tiers ("Low", "Mid", "High").
* :func:`name_personas` – an RFM persona (Champions, At Risk, ...) per value cluster,
  with a one-line description and a recommended action.
* :func:`tier_position` and :func:`grid_label` – the business label of each
  value × purchase-style cell ("Key accounts", "Investigate", ...).
* :func:`segment_name` – ``"<value_tier> · <purchase_style>"``.

The persona vocabulary is the RFM segment vocabulary used in CRM practice (the same
words as the R×F grid of DESIGN section 5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation import schema
from segmentation.errors import SegmentationError

# Value-tier names ------------------------------------------------------------------
#: All tier words from the lowest to the highest value; every ``TIER_NAMES[k]`` is an
#: ordered sub-sequence of this ladder, so a word means the same rank for every k.
TIER_LADDER: tuple[str, ...] = (
    "Lowest",
    "Very low",
    "Low",
    "Lower mid",
    "Mid",
    "Upper mid",
    "High",
    "Very high",
    "Top",
    "Elite",
)
#: Names of value_cluster 0..k-1 (ascending value) for each allowed k.
TIER_NAMES: dict[int, tuple[str, ...]] = {
    2: ("Low", "High"),
    3: ("Low", "Mid", "High"),
    4: ("Low", "Mid", "High", "Top"),
    5: ("Very low", "Low", "Mid", "High", "Top"),
    6: ("Very low", "Low", "Mid", "Upper mid", "High", "Top"),
    7: ("Very low", "Low", "Lower mid", "Mid", "Upper mid", "High", "Top"),
    8: ("Very low", "Low", "Lower mid", "Mid", "Upper mid", "High", "Very high", "Top"),
    9: (
        "Lowest",
        "Very low",
        "Low",
        "Lower mid",
        "Mid",
        "Upper mid",
        "High",
        "Very high",
        "Top",
    ),
    10: TIER_LADDER,
}


def tier_names(k: int) -> tuple[str, ...]:
    """Return the names of value clusters ``0..k-1``, lowest value first.

    Parameters
    ----------
    k : int
        Number of value tiers, 2 <= k <= 10.

    Returns
    -------
    tuple of str, length k
        E.g. ``("Low", "Mid", "High")`` for k=3; see :data:`TIER_NAMES`.

    Raises
    ------
    SegmentationError
        If ``k`` is outside 2..10.
    """
    if k not in TIER_NAMES:
        raise SegmentationError(
            f"k={k!r} value tiers is not supported; choose k between "
            f"{min(TIER_NAMES)} and {max(TIER_NAMES)}"
        )
    return TIER_NAMES[k]


# Personas --------------------------------------------------------------------------
#: Each persona's prototype cluster, as ratios to the population medians of
#: (recency_days, frequency, monetary); ratios are taken as (x + 1) / (median + 1)
#: so that zeros are harmless. Low recency is good: Champions bought 4x more recently
#: than the median customer, order 4x as often and spend 4x as much.
PERSONA_PROTOTYPES: dict[str, tuple[float, float, float]] = {
    "Champions": (0.25, 4.0, 4.0),
    "Loyal": (0.6, 3.0, 2.5),
    "Potential Loyalists": (0.4, 1.5, 1.2),
    "Big Spenders": (1.0, 1.0, 3.0),
    "New": (0.2, 0.6, 0.4),
    "Promising": (0.6, 0.7, 0.6),
    "Need Attention": (1.2, 1.0, 1.0),
    "About to Sleep": (1.8, 0.7, 0.6),
    "At Risk": (2.5, 2.0, 2.0),
    "Can't Lose": (3.5, 4.0, 4.0),
    "Hibernating": (3.0, 0.7, 0.5),
    "Lost": (5.0, 0.6, 0.3),
}
#: Persona -> (what they are, recommended action).
PERSONA_TEXT: dict[str, tuple[str, str]] = {
    "Champions": (
        "Bought recently, buy often and spend the most",
        "Reward them; early access and referral offers",
    ),
    "Loyal": (
        "Buy regularly and respond to the relationship",
        "Upsell higher-value lines; loyalty programme",
    ),
    "Potential Loyalists": (
        "Recent customers with several orders",
        "Offer membership or a loyalty programme",
    ),
    "Big Spenders": (
        "Spend well per order but order rarely",
        "Recommend related products to raise frequency",
    ),
    "Promising": (
        "Recent buyers who have not spent much yet",
        "Onboarding and a second-purchase incentive",
    ),
    "New": (
        "First purchases only, very recently",
        "Welcome series; make the second order easy",
    ),
    "Need Attention": (
        "Middling recency, frequency and spend",
        "Limited-time offers based on past purchases",
    ),
    "About to Sleep": (
        "Below average and drifting away",
        "Share popular products; reactivation discount",
    ),
    "At Risk": (
        "Used to buy often or spend well, not lately",
        "Personal win-back e-mails and renewal offers",
    ),
    "Can't Lose": (
        "Once the best customers, gone quiet",
        "Win them back personally; ask what changed",
    ),
    "Hibernating": (
        "Last order long ago, few orders, low spend",
        "Low-cost reactivation campaign; otherwise let go",
    ),
    "Lost": (
        "Lowest recency, frequency and spend",
        "Only cheap campaigns; exclude from costly ones",
    ),
}
PERSONAS: tuple[str, ...] = tuple(PERSONA_PROTOTYPES)

#: Columns :func:`name_personas` reads from a value-tier profile.
PROFILE_MEDIANS: tuple[str, ...] = tuple(f"median_{c}" for c in schema.RFM_COLUMNS)


def persona_distances(profile: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Return the distance of each cluster to each persona prototype.

    Distance = sum over recency, frequency and monetary of
    ``log2(cluster ratio / prototype ratio) ** 2`` (:data:`PERSONA_PROTOTYPES`).

    Returns
    -------
    pandas.DataFrame of shape (n_clusters, n_personas)
        Index ``value_cluster``; columns :data:`PERSONAS`.
    """
    pop = population[list(schema.RFM_COLUMNS)].median()
    ratios = np.log2(
        (profile[list(PROFILE_MEDIANS)].to_numpy(float) + 1.0)
        / (pop.to_numpy(float) + 1.0)
    )
    protos = np.log2(np.array(list(PERSONA_PROTOTYPES.values())))
    dist = ((ratios[:, None, :] - protos[None, :, :]) ** 2).sum(axis=2)
    return pd.DataFrame(dist, index=profile.index, columns=list(PERSONAS))


def name_personas(profile: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Name each value cluster in the RFM vocabulary, uniquely within one run.

    Steps: (1) each cluster's median recency_days, frequency and monetary as
    ratios to the population medians; (2) its distance to each persona's prototype
    (:func:`persona_distances`); (3) the unique names that minimise the total
    distance over all clusters (the assignment problem, solved exactly by
    :func:`scipy.optimize.linear_sum_assignment`). With at most 10 clusters and 12
    personas every cluster of a run gets a different name.

    Parameters
    ----------
    profile : pandas.DataFrame
        Index ``value_cluster`` (0..k-1, ascending value); columns
        ``median_recency_days``, ``median_frequency``, ``median_monetary``
        (as in ``ValueTiers.profile_``).
    population : pandas.DataFrame of shape (n_customers, >= 3)
        All customers, with columns ``schema.RFM_COLUMNS``.

    Returns
    -------
    pandas.DataFrame
        Index ``value_cluster`` (as ``profile``); columns ``persona``,
        ``description`` (one line, with the cluster's medians) and ``action``.

    Raises
    ------
    SegmentationError
        If a needed column is missing or ``population`` is empty.
    """
    _require(profile, PROFILE_MEDIANS, "value-tier profile")
    _require(population, schema.RFM_COLUMNS, "customer table")
    if population.empty:
        raise SegmentationError("the customer table is empty; no personas to name")
    if len(profile) > len(PERSONAS):
        raise SegmentationError(
            f"{len(profile)} value clusters but only {len(PERSONAS)} persona names"
        )
    dist = persona_distances(profile, population)
    clusters, personas = linear_sum_assignment(dist.to_numpy())
    names = {
        dist.index[c]: PERSONAS[p] for c, p in zip(clusters, personas, strict=True)
    }
    rows = {}
    for cluster, row in profile.iterrows():
        persona = names[cluster]
        base, action = PERSONA_TEXT[persona]
        rows[cluster] = {
            schema.PERSONA: persona,
            "description": _describe(base, row),
            "action": action,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = schema.VALUE_CLUSTER
    return out


def _describe(base: str, row: pd.Series) -> str:
    days = f"{row['median_recency_days']:,.0f}"
    orders = f"{row['median_frequency']:,.0f}"
    return (
        f"{base}: median {days} day{'' if days == '1' else 's'} since the last "
        f"order, {orders} order{'' if orders == '1' else 's'}, "
        f"{row['median_monetary']:,.0f} spent"
    )


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SegmentationError(
            f"the {what} lacks column(s) {', '.join(missing)}", missing=missing
        )


# Value × style grid ----------------------------------------------------------------
TIER_POSITIONS: tuple[str, ...] = ("bottom", "middle", "top")
#: (tier position, purchase style) -> business label of the grid cell.
GRID_LABELS: dict[tuple[str, str], str] = {
    ("top", schema.REGULAR): "Best customers",
    ("top", schema.BULK): "Key accounts",
    ("top", schema.ANOMALY): "Review VIP activity",
    ("middle", schema.REGULAR): "Growth opportunities",
    ("middle", schema.BULK): "Wholesale prospects",
    ("middle", schema.ANOMALY): "Check unusual buying",
    ("bottom", schema.REGULAR): "Occasional buyers",
    ("bottom", schema.BULK): "Small trade buyers",
    ("bottom", schema.ANOMALY): "Investigate",
}


def tier_position(value_cluster: int, k: int) -> str:
    """Return "bottom" for cluster 0, "top" for cluster k-1, "middle" otherwise.

    Raises
    ------
    SegmentationError
        If ``value_cluster`` is not in ``0..k-1``.
    """
    if not 0 <= value_cluster < k:
        raise SegmentationError(
            f"value_cluster={value_cluster!r} is outside 0..{k - 1} for k={k}"
        )
    if value_cluster == 0:
        return "bottom"
    return "top" if value_cluster == k - 1 else "middle"


def grid_label(tier_position: str, style: str) -> str:
    """Return the business label of a value × style cell (:data:`GRID_LABELS`).

    Parameters
    ----------
    tier_position : {"bottom", "middle", "top"}
        From :func:`tier_position`.
    style : {"Regular", "Bulk", "Anomaly"}
        ``schema.PURCHASE_STYLES``.

    Raises
    ------
    SegmentationError
        For an unknown position or style.
    """
    try:
        return GRID_LABELS[(tier_position, style)]
    except KeyError:
        raise SegmentationError(
            f"no grid label for tier position {tier_position!r} and style {style!r}; "
            f"positions are {TIER_POSITIONS}, styles {schema.PURCHASE_STYLES}"
        ) from None


def segment_name(tier: str, style: str) -> str:
    """Return ``"<value_tier> · <purchase_style>"``, e.g. ``"High · Bulk"``."""
    return f"{tier} · {style}"
