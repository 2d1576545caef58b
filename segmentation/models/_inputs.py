"""What the value tiers, purchase styles and k sweep share: valid input and scaling.

Private helper of :mod:`segmentation.models` (which re-exports
:func:`check_features` and the constants): the allowed k, the k-means settings,
the check of a customer feature table, and the ``log1p`` + standardisation
feature space.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segmentation.errors import SegmentationError
from segmentation.settings import K_RANGE

#: k-means restarts of one value-tier fit, and of each k in the diagnostic sweep
#: (fewer: the sweep fits nine models and must stay well under a second).
N_INIT = 10
SWEEP_N_INIT = 5
#: k-means runs with this many OpenMP/BLAS threads. A few thousand customers gain
#: nothing from threads, and on a busy shared server threads that spin-wait for a
#: core made the k sweep up to 10x slower (measured: 0.4 s single-threaded against
#: 0.6-4.7 s with 2 threads on 2 loaded cores).
KMEANS_THREADS = 1


def check_features(X: object, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return ``X[columns]`` as float, or say which column and customer is wrong.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, n_columns)
        A customer table (index ``customer_id``).
    columns : tuple of str
        The columns needed; each must be numeric, finite and >= 0.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, len(columns))
        float64 copy, same index.

    Raises
    ------
    SegmentationError
        If ``X`` is not a DataFrame, is empty, lacks a column, or holds a
        non-numeric, missing, infinite or negative value (first offending customer
        named).
    """
    if not isinstance(X, pd.DataFrame):
        raise SegmentationError(
            f"expected a customer table (pandas DataFrame) with columns "
            f"{', '.join(columns)}, got {type(X).__name__}"
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise SegmentationError(
            f"the customer table lacks column(s) {', '.join(missing)}",
            missing=missing,
        )
    if X.empty:
        raise SegmentationError("the customer table has no customers")
    out = X[list(columns)].apply(pd.to_numeric, errors="coerce").astype("float64")
    for column in columns:
        values = out[column].to_numpy()
        for bad, what in (
            (~np.isfinite(values), "missing, non-numeric or infinite"),
            (values < 0, "negative"),
        ):
            if bad.any():
                first = np.flatnonzero(bad)[0]
                raise SegmentationError(
                    f"column {column!r} has {int(bad.sum())} {what} value(s); first "
                    f"at customer {X.index[first]!r}: {X[column].iloc[first]!r}",
                    column=column,
                )
    return out


def log_scaler() -> Pipeline:
    """Return ``log1p`` then standardisation: the feature space of the value tiers.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; steps ``log1p`` and ``scale``.
    """
    return Pipeline(
        [
            ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    )


def check_k(k: object) -> int:
    """Return ``k`` as int, or raise if it is not an allowed number of value tiers.

    Raises
    ------
    SegmentationError
        If ``k`` is not an integer in :data:`K_RANGE` (booleans refused).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k not in K_RANGE:
        raise SegmentationError(
            f"n_clusters={k!r} value tiers is not allowed; choose k between "
            f"{K_RANGE.start} and {K_RANGE.stop - 1}"
        )
    return int(k)
