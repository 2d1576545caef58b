"""Every naming rule, in one place (DESIGN section 6).

* :func:`tier_names` – ordered names of the ``k`` value tiers ("Low", "Mid", "High").
* :func:`name_personas` – a persona per value tier x status group (Stars, Can't
  lose them, ...), named by :data:`PERSONA_RULES` on the group's own median R and
  F scores, with a one-line description and a recommended action; at k >= 4,
  where several middle tiers fit the same rules, a middle tier's persona carries
  its tier ("Fading · Upper mid"), so every group shown has its own name.
* :func:`tier_position` and :func:`grid_label` – the business label of each
  value × purchase-style cell ("Key accounts", "Investigate", ...), kept in
  :mod:`segmentation._grid_labels` and importable from here.
* :func:`segment_name` – ``"<value_tier> · <purchase_style>"``.

The persona vocabulary is its own: no persona is named like a cell of the R×F
grid (``rfm_segment``, DESIGN section 5), which keeps the CRM words.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from segmentation import schema
from segmentation._grid_labels import (
    GRID_LABELS,
    TIER_POSITIONS,
    grid_label,
    tier_position,
)
from segmentation.errors import SegmentationError

__all__ = [
    "GENERIC_ACTION",
    "GRID_LABELS",
    "PERSONAS",
    "PERSONA_RULES",
    "TIER_LADDER",
    "TIER_NAMES",
    "TIER_POSITIONS",
    "TIER_QUALIFIER",
    "PersonaRule",
    "grid_label",
    "name_personas",
    "persona_for",
    "segment_name",
    "tier_names",
    "tier_position",
]

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


# Personas: value tier x status -----------------------------------------------------
@dataclass(frozen=True)
class PersonaRule:
    """One persona: which groups it may name, and what must hold on their medians.

    A group of customers (one value tier x one status) takes the first rule
    whose ``position`` and ``status`` match and whose conditions hold on the
    group's own median R and F scores (the scores of the RF grid, DESIGN
    section 5): so a name never contradicts the numbers printed beside it.
    """

    name: str
    position: str
    status: str
    description: str
    action: str
    min_r: float = 1
    max_r: float = 5
    min_f: float = 1
    max_f: float = 5

    def holds(self, median_r: float, median_f: float) -> bool:
        """Tell whether the group's median R and F scores fit this rule."""
        return (
            self.min_r <= median_r <= self.max_r
            and self.min_f <= median_f <= self.max_f
        )


#: Every persona, first match wins (positions: "top", "middle", "bottom" of the
#: value tiers; statuses of :mod:`segmentation.models`). No name is a name of
#: the RF grid (``features.RFM_SEGMENT_NAMES``): the two vocabularies differ.
PERSONA_RULES: tuple[PersonaRule, ...] = (
    PersonaRule(
        "Stars",
        "top",
        "Active",
        "Top value, ordering often and recently",
        "Reward them; early access and referral offers",
        min_r=4,
        min_f=4,
    ),
    PersonaRule(
        "Big recent spenders",
        "top",
        "Active",
        "Top value, bought recently",
        "Thank them; suggest what goes with their last order",
        min_r=3,
    ),
    PersonaRule(
        "Slipping stars",
        "top",
        "Cooling",
        "Top value, longer than usual since their last order",
        "A personal note and a reason to come back now",
        max_r=4,
    ),
    PersonaRule(
        "Can't lose them",
        "top",
        "Lapsed",
        "Top value, gone quiet",
        "Win them back personally; ask what changed",
        max_r=3,
    ),
    PersonaRule(
        "Regulars",
        "middle",
        "Active",
        "Mid value, ordering regularly and recently",
        "Upsell higher-value lines; loyalty programme",
        min_r=3,
        min_f=3,
    ),
    PersonaRule(
        "Rising buyers",
        "middle",
        "Active",
        "Mid value, bought recently",
        "Make the next order easy; recommend related products",
        min_r=3,
    ),
    PersonaRule(
        "Needs a nudge",
        "middle",
        "Cooling",
        "Mid value, later than usual for their next order",
        "Limited-time offers based on past purchases",
        max_r=4,
    ),
    PersonaRule(
        "Fading",
        "middle",
        "Lapsed",
        "Mid value, no order for a long while",
        "Win-back e-mail with their favourite products",
        max_r=3,
    ),
    PersonaRule(
        "First-timers",
        "bottom",
        "Active",
        "Low value so far: one recent order",
        "Welcome series; make the second order easy",
        min_r=3,
        max_f=1,
    ),
    PersonaRule(
        "Light buyers",
        "bottom",
        "Active",
        "Low value, bought recently",
        "Share popular products; a second-purchase incentive",
        min_r=3,
    ),
    PersonaRule(
        "Drifting",
        "bottom",
        "Cooling",
        "Low value and later than usual",
        "Low-cost reminders; popular products",
        max_r=4,
    ),
    PersonaRule(
        "Gone quiet",
        "bottom",
        "Lapsed",
        "Low value, no order for a long while",
        "Only cheap campaigns; exclude from costly ones",
        max_r=3,
    ),
)
PERSONAS: tuple[str, ...] = tuple(rule.name for rule in PERSONA_RULES)
#: What a group without a fitting rule is told (its name is "<tier> · <status>").
GENERIC_ACTION = "Look at the group's medians before you act"


def persona_for(position: str, status: str, median_r: float, median_f: float):
    """Return the first :data:`PERSONA_RULES` rule that names this group, or None.

    Parameters
    ----------
    position : {"bottom", "middle", "top"}
        The tier's position (:func:`tier_position`).
    status : str
        The group's status ("Active", "Cooling", "Lapsed").
    median_r, median_f : float
        The group's median R and F scores (1..5).

    Returns
    -------
    PersonaRule or None
        None when no rule's conditions hold on these medians.
    """
    for rule in PERSONA_RULES:
        if (
            rule.position == position
            and rule.status == status
            and rule.holds(median_r, median_f)
        ):
            return rule
    return None


def name_personas(
    customers: pd.DataFrame, k: int, tiers: tuple[str, ...]
) -> pd.DataFrame:
    """Name each value tier x status group by the rules on its own medians.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, ...)
        Columns value_cluster (0..k-1), status, r_score, f_score,
        recency_days, frequency, monetary.
    k : int
        Number of value tiers.
    tiers : tuple of str
        Tier names of value clusters 0..k-1 (:func:`tier_names`).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty group, index (value_cluster, status); columns
        value_tier, persona (unique: at k >= 4, where several middle tiers
        fit the same rules, a middle tier's persona is followed by its tier,
        "Regulars · Upper mid"; a group no rule fits is "<tier> · <status>"),
        description (with the group's medians), action,
        customers, revenue_share (0..1), median_r_score, median_f_score,
        median_recency_days, median_frequency, median_monetary.

    Raises
    ------
    SegmentationError
        If a needed column is missing or there is no customer.
    """
    _require(customers, _GROUP_COLUMNS, "customer table")
    if customers.empty:
        raise SegmentationError("the customer table is empty; no personas to name")
    keys = [schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]
    grouped = customers.groupby(keys, observed=True, sort=True)
    table = grouped.agg(
        customers=(schema.MONETARY, "size"),
        revenue=(schema.MONETARY, "sum"),
        median_r_score=(schema.R_SCORE, "median"),
        median_f_score=(schema.F_SCORE, "median"),
        median_recency_days=(schema.RECENCY_DAYS, "median"),
        median_frequency=(schema.FREQUENCY, "median"),
        median_monetary=(schema.MONETARY, "median"),
    )
    total = customers[schema.MONETARY].sum()
    rows, rules_used = [], []
    for (cluster, status), group in table.iterrows():
        tier = tiers[cluster]
        rule = persona_for(
            tier_position(cluster, k),
            status,
            group["median_r_score"],
            group["median_f_score"],
        )
        if rule is None:
            name, base, action = (
                f"{tier} · {status}",
                f"{tier} value, {status}",
                GENERIC_ACTION,
            )
        else:
            name, base, action = rule.name, _tier_words(rule, tier), rule.action
        rules_used.append(rule)
        rows.append(
            {
                schema.VALUE_TIER: tier,
                schema.PERSONA: name,
                "description": _describe(base, group),
                "action": action,
            }
        )
    named = pd.DataFrame(rows, index=table.index)
    # At k >= 4 several middle tiers fit the same rules: a middle tier's
    # persona then carries its tier ("Regulars · Upper mid"), every one of
    # them, so no two groups shown share a name and a tier reads the same way
    # in every status.
    if k >= 4:
        middle = [rule is not None and rule.position == "middle" for rule in rules_used]
        named.loc[middle, schema.PERSONA] = (
            named.loc[middle, schema.PERSONA]
            + TIER_QUALIFIER
            + named.loc[middle, schema.VALUE_TIER]
        )
    share = table["revenue"] / total if total > 0 else table["revenue"] * 0.0
    return named.join(table.drop(columns="revenue").assign(revenue_share=share))


#: Between a persona that several tiers fit and the tier that tells them apart.
TIER_QUALIFIER = " · "


def _tier_words(rule: PersonaRule, tier: str) -> str:
    """Return the rule's description, "Mid value" naming the tier (k >= 4)."""
    if rule.position == "middle" and tier != "Mid":
        return rule.description.replace("Mid value", f"{tier} value", 1)
    return rule.description


_GROUP_COLUMNS = (
    schema.VALUE_CLUSTER,
    schema.CUSTOMER_STATUS,
    schema.R_SCORE,
    schema.F_SCORE,
    *schema.RFM_COLUMNS,
)


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


# Value × style segment names -------------------------------------------------------
def segment_name(tier: str, style: str) -> str:
    """Return ``"<value_tier> · <purchase_style>"``, e.g. ``"High · Bulk"``."""
    return f"{tier} · {style}"
