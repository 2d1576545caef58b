"""Score new customers with a fitted segmentation (used by the JSON API).

A new customer is placed with the models fitted on the run's customers: the
value tier from the k-means pipeline, the R/F/M scores from the run's own
quintile steps (so the RF-grid segment means the same as in the run), and the
purchase style from the style model when the behaviour features are given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.features import rfm_segment

if TYPE_CHECKING:
    from segmentation.pipeline import Segmentation

_SCORE_OF = {
    schema.RECENCY_DAYS: schema.R_SCORE,
    schema.FREQUENCY: schema.F_SCORE,
    schema.MONETARY: schema.M_SCORE,
}


def _validate(records: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in schema.RFM_COLUMNS if c not in records.columns]
    if missing:
        raise SegmentationError(f"missing field(s): {', '.join(missing)}")
    numeric = list(dict.fromkeys(schema.RFM_COLUMNS + schema.BEHAVIOUR_COLUMNS))
    converted = {}
    for column in (c for c in numeric if c in records.columns):
        values = pd.to_numeric(records[column], errors="coerce").astype("float64")
        for bad, rule in (
            (~np.isfinite(values), "a finite number"),
            (values < 0, ">= 0"),
        ):
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise SegmentationError(
                    f"{column} must be {rule} (record {row}: "
                    f"{records[column].iloc[row]!r})"
                )
        converted[column] = values
    return records.assign(**converted)


def score_tables(features: pd.DataFrame) -> dict[str, pd.Series]:
    """Return, per RFM column, the run's step function ``value -> quintile score``.

    Parameters
    ----------
    features : pandas.DataFrame
        The run's customers: ``schema.RFM_COLUMNS`` and their r/f/m scores.

    Returns
    -------
    dict of str to pandas.Series
        For recency_days, frequency and monetary: the distinct training values
        (sorted index) and the score each got, for :func:`quintile_of`.
    """
    return {
        column: features.groupby(column)[score].first().sort_index()
        for column, score in _SCORE_OF.items()
    }


def quintile_of(values: pd.Series, table: pd.Series) -> np.ndarray:
    """Score values with a run's step function ``training value -> score``.

    Parameters
    ----------
    values : pandas.Series of shape (n,)
        New values of one of recency_days, frequency, monetary.
    table : pandas.Series
        Sorted training values (index) and the score each got.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        The score of the nearest training value at or below each value (the
        lowest training value's score below the range).
    """
    position = np.searchsorted(table.index.to_numpy(), values.to_numpy(), "right") - 1
    return table.to_numpy()[np.clip(position, 0, len(table) - 1)].astype("int64")


def score(segmentation: Segmentation, records: pd.DataFrame) -> pd.DataFrame:
    """Score new customers with a fitted segmentation's models.

    Parameters
    ----------
    segmentation : Segmentation
        A fitted run (:func:`segmentation.pipeline.segment`).
    records : pandas.DataFrame of shape (n, m)
        Columns recency_days (days), frequency (orders), monetary (currency),
        and optionally every column of ``schema.BEHAVIOUR_COLUMNS``.

    Returns
    -------
    pandas.DataFrame of shape (n, ...)
        value_cluster, value_tier, persona, r_score, f_score, m_score,
        rfm_segment; plus purchase_style and style_reason when every behaviour
        column was given. Index as ``records``.

    Raises
    ------
    SegmentationError
        A field is missing, not a finite number, or negative.
    """
    records = _validate(records)
    clusters = segmentation.value_model.predict(records)
    personas = segmentation.personas
    scores = {
        _SCORE_OF[c]: quintile_of(records[c], segmentation.score_tables[c])
        for c in schema.RFM_COLUMNS
    }
    out = pd.DataFrame(
        {
            schema.VALUE_CLUSTER: clusters,
            schema.VALUE_TIER: personas["value_tier"].to_numpy()[clusters],
            schema.PERSONA: personas["persona"].to_numpy()[clusters],
            **scores,
        },
        index=records.index,
    )
    out[schema.RFM_SEGMENT] = rfm_segment(
        out[schema.R_SCORE], out[schema.F_SCORE]
    ).to_numpy()
    if set(schema.BEHAVIOUR_COLUMNS) <= set(records.columns):
        style = segmentation.style_model.predict(records)
        out = out.join(style[[schema.PURCHASE_STYLE, schema.STYLE_REASON]])
    return out
