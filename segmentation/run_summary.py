"""A saved run's value clusters and value x style cells as JSON-ready rows.

:meth:`segmentation.runs.RunStore.summary` serves this to the JSON API.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from segmentation import outputs, schema

if TYPE_CHECKING:
    from segmentation.pipeline import Segmentation


def run_summary(run_id: str, metadata: dict, segmentation: Segmentation) -> dict:
    """Return a run's value clusters and value × style cells, JSON-ready.

    Parameters
    ----------
    run_id : str
        The run's id.
    metadata : dict
        The run's ``report.json`` (``input.file``, ``created``, ``as_of``...).
    segmentation : Segmentation
        The run's labelled customers and fitted models.

    Returns
    -------
    dict
        ``run_id``, ``file``, ``created``, ``as_of``, ``k``, ``customers``;
        ``value_clusters``: one dict per value cluster (value_cluster,
        value_tier, persona, description, action, customers, revenue_share
        0..1, median_recency_days, median_frequency, median_monetary);
        ``grid``: one dict per non-empty cell of
        :func:`segmentation.outputs.grid_summary` plus its cluster's persona.
        Non-finite floats become None.
    """
    seg, meta = segmentation, metadata
    return {
        "run_id": run_id,
        "file": meta["input"]["file"],
        "created": meta["created"],
        "as_of": meta["as_of"],
        "k": seg.k,
        "customers": len(seg.customers),
        "value_clusters": _records(_cluster_table(seg)),
        "grid": _records(_grid_table(seg)),
    }


def _persona_names(seg: Segmentation) -> pd.DataFrame:
    """persona, description, action per value_cluster (where the table has them)."""
    personas = seg.personas.loc[:, ~seg.personas.columns.duplicated()]
    wanted = [c for c in ("persona", "description", "action") if c in personas]
    return personas[wanted].rename_axis(schema.VALUE_CLUSTER)


def _cluster_table(seg: Segmentation) -> pd.DataFrame:
    table = outputs.group_profile(
        seg.customers, schema.VALUE_CLUSTER, schema.VALUE_TIER
    )
    return table.join(_persona_names(seg)).reset_index()


def _grid_table(seg: Segmentation) -> pd.DataFrame:
    grid = outputs.grid_summary(seg.customers)
    persona = _persona_names(seg)[["persona"]].reset_index()
    return grid.merge(persona, on=schema.VALUE_CLUSTER, how="left")


def _plain(value: object) -> object:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):  # not JSON
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
