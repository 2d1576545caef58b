"""Purchase style: Regular, Bulk or Anomaly, with a reason in words.

:class:`PurchaseStyle` flags anomalies with an ``IsolationForest``, then Bulk
buyers by a units-per-line rule, and puts each verdict in words (DESIGN
section 6). Re-exported by :mod:`segmentation.models`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.models._inputs import check_features, log_scaler
from segmentation.settings import DEFAULT_ANOMALY_SHARE, DEFAULT_SEED

__all__ = ["BULK_FACTOR", "REASON_PHRASES", "SECOND_REASON_Z", "PurchaseStyle"]

#: Default Bulk rule: average units per line at least this multiple of the median.
BULK_FACTOR = 4.0
#: An anomaly's second reason is given only when it deviates at least this much
#: (robust z-score on the log1p scale).
SECOND_REASON_Z = 2.0
#: How each behaviour feature is put in words; ``{x}`` customer, ``{m}`` median.
REASON_PHRASES: dict[str, str] = {
    schema.FREQUENCY: "{x} orders vs median {m}",
    schema.MONETARY: "{x} spent vs median {m}",
    schema.AVG_ORDER_VALUE: "average order value {x} vs median {m}",
    schema.AVG_ITEMS_PER_ORDER: "{x} units per order vs median {m}",
    schema.AVG_LINE_QUANTITY: "{x} units per line vs median {m}",
    schema.MAX_LINE_QUANTITY: "largest line {x} units vs median {m}",
    schema.DISTINCT_PRODUCTS: "{x} distinct products vs median {m}",
    schema.RETURN_RATE: "return rate {x} vs median {m}",
}


def _fmt(value: float, column: str = "") -> str:
    if column == schema.RETURN_RATE:
        return f"{100 * value:.0f}%"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


class PurchaseStyle(BaseEstimator):
    """Purchase style: Regular, Bulk or Anomaly, with a reason in words.

    Steps of :meth:`fit`: (1) Anomaly = the ``anomaly_share`` of customers that an
    ``IsolationForest`` (Liu, Ting & Zhou 2008) on standardised ``log1p`` of
    ``schema.BEHAVIOUR_COLUMNS`` isolates most easily; (2) among the others, Bulk =
    ``avg_line_quantity >= bulk_factor * median(avg_line_quantity)`` (the median of
    all fitted customers, and strictly above it); (3) the rest are Regular.
    On Online Retail I (4,334 customers from features.py) the defaults give 2.0 %
    Anomaly and 5.2 % Bulk (threshold 40 units per line, median 10).

    An anomaly's reason names the one or two features that deviate most in robust
    z-score terms on the log1p scale: ``(log1p(x) - median) / MAD`` (MAD scaled to
    the normal; where it is 0, 1.2533 x the mean absolute deviation; where that is
    0 too, 1).

    Parameters
    ----------
    anomaly_share : float, default=0.02
        Expected share of anomalies, 0 < share <= 0.5 (IsolationForest
        ``contamination``).
    bulk_factor : float, default=4.0
        Bulk threshold as a multiple of the median units per line, > 1.
    random_state : int, default=0
        Seed of the forest.

    Attributes
    ----------
    features_used_ : tuple of str
        The behaviour columns the model reads.
    pipeline_ : sklearn.pipeline.Pipeline
        ``log1p`` -> ``StandardScaler`` -> ``IsolationForest``.
    medians_ : pandas.Series
        Median of each behaviour column (raw units) over the fitted customers.
    bulk_threshold_ : float
        Units per line from which a non-anomalous customer is Bulk.
    robust_center_, robust_scale_ : pandas.Series
        Median and robust scale of each log1p behaviour column.
    styles_ : pandas.Series of str
        Purchase style per fitted customer, indexed like X.
    reasons_ : pandas.Series of str
        Style reason per fitted customer ("" for Regular).
    """

    def __init__(
        self,
        anomaly_share=DEFAULT_ANOMALY_SHARE,
        *,
        bulk_factor=BULK_FACTOR,
        random_state=DEFAULT_SEED,
    ):
        self.anomaly_share = anomaly_share
        self.bulk_factor = bulk_factor
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the forest and the Bulk threshold; label the fitted customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 8)
            Customers with all of ``schema.BEHAVIOUR_COLUMNS`` (others ignored).
            A column that is entirely missing (NaN), such as distinct_products
            for a file without stock codes, is left out of the model; any other
            missing value is an error.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        SegmentationError
            For ``anomaly_share`` outside (0, 0.5], ``bulk_factor`` <= 1, fewer than
            2 customers, or a missing / negative value (column and customer named).
        """
        share = self.anomaly_share
        if (
            isinstance(share, bool)
            or not isinstance(share, numbers.Real)
            or not (0 < share <= 0.5)
        ):
            raise SegmentationError(
                f"anomaly_share={share!r} must be in (0, 0.5], e.g. 0.02 for 2 %"
            )
        if (
            isinstance(self.bulk_factor, bool)
            or not isinstance(self.bulk_factor, numbers.Real)
            or not self.bulk_factor > 1
        ):
            raise SegmentationError(
                f"bulk_factor={self.bulk_factor!r} must be a number > 1"
            )
        if isinstance(X, pd.DataFrame):
            # A column with no value at all (distinct_products of a file without
            # stock codes) is left out; avg_line_quantity is always needed.
            empty = {
                c for c in schema.BEHAVIOUR_COLUMNS if c in X and X[c].isna().all()
            }
            empty.discard(schema.AVG_LINE_QUANTITY)
        else:
            empty = set()
        self.features_used_ = tuple(
            c for c in schema.BEHAVIOUR_COLUMNS if c not in empty
        )
        data = check_features(X, self.features_used_)
        if len(data) < 2:
            raise SegmentationError(
                f"purchase styles need at least 2 customers, got {len(data)}"
            )
        forest = IsolationForest(
            contamination=float(share), random_state=self.random_state
        )
        self.pipeline_ = Pipeline([*log_scaler().steps, ("forest", forest)])
        self.pipeline_.fit(data)
        self.medians_ = data.median()
        self.bulk_threshold_ = float(
            self.bulk_factor * self.medians_[schema.AVG_LINE_QUANTITY]
        )
        logs = np.log1p(data)
        self.robust_center_ = logs.median()
        mad = pd.Series(median_abs_deviation(logs, scale="normal"), index=logs.columns)
        mean_ad = (logs - self.robust_center_).abs().mean() * np.sqrt(np.pi / 2)
        self.robust_scale_ = mad.where(mad > 0, mean_ad).where(lambda s: s > 0, 1.0)
        labelled = self.predict(X)
        self.styles_ = labelled[schema.PURCHASE_STYLE]
        self.reasons_ = labelled[schema.STYLE_REASON]
        return self

    def predict(self, X):
        """Return the purchase style and reason of (new) customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 7)
            The columns ``features_used_`` are required: all of
            ``schema.BEHAVIOUR_COLUMNS`` except one that was entirely missing at
            fit time (the forest reads them all; the Bulk rule reads
            ``avg_line_quantity``).

        Returns
        -------
        pandas.DataFrame of shape (n_samples, 2)
            Index as X; columns ``purchase_style`` (``schema.PURCHASE_STYLES``) and
            ``style_reason`` ("" for Regular).

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        check_is_fitted(self, "pipeline_")
        data = check_features(X, self.features_used_)
        anomaly = self.pipeline_.predict(data) == -1
        line_qty = data[schema.AVG_LINE_QUANTITY]
        median_qty = self.medians_[schema.AVG_LINE_QUANTITY]
        bulk = ~anomaly & (line_qty >= self.bulk_threshold_) & (line_qty > median_qty)
        z = (np.log1p(data) - self.robust_center_) / self.robust_scale_
        styles = np.where(anomaly, schema.ANOMALY, np.where(bulk, schema.BULK, ""))
        styles = np.where(styles == "", schema.REGULAR, styles)
        reasons = [
            self._anomaly_reason(data.iloc[i], z.iloc[i])
            if anomaly[i]
            else self._bulk_reason(line_qty.iloc[i])
            if bulk.iloc[i]
            else ""
            for i in range(len(data))
        ]
        return pd.DataFrame(
            {schema.PURCHASE_STYLE: styles, schema.STYLE_REASON: reasons},
            index=X.index,
        )

    def _bulk_reason(self, line_qty: float) -> str:
        median = self.medians_[schema.AVG_LINE_QUANTITY]
        ratio = line_qty / median
        times = f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
        return (
            f"{_fmt(line_qty)} units per line on average, {times} the median of "
            f"{_fmt(median)}"
        )

    def _anomaly_reason(self, row: pd.Series, z: pd.Series) -> str:
        ranked = z.abs().sort_values(ascending=False, kind="stable")
        chosen = [ranked.index[0]]
        if len(ranked) > 1 and ranked.iloc[1] >= SECOND_REASON_Z:
            chosen.append(ranked.index[1])
        return "; ".join(
            REASON_PHRASES[c].format(x=_fmt(row[c], c), m=_fmt(self.medians_[c], c))
            for c in chosen
        )
