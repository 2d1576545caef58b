"""The value × purchase-style grid: each cell's business label.

* :func:`tier_position` – "bottom", "middle" or "top" of the k value tiers;
* :func:`grid_label` – the label of a tier position × purchase style cell
  ("Key accounts", "Investigate", ...), from :data:`GRID_LABELS`.

Private: :mod:`segmentation.personas`, the home of every naming rule, re-exports
these names; import them from there.
"""

from __future__ import annotations

from segmentation import schema
from segmentation.errors import SegmentationError

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
