"""Purchase style: Regular, Bulk or Anomaly, with a reason in words.

:class:`PurchaseStyle` flags anomalies with an ``IsolationForest``, then Bulk
buyers by a units-per-line rule, and puts each verdict in words (DESIGN
section 6). Each customer is judged against peers of about as many orders: the
order bands, their robust scales and the size of the spend bins live in
:mod:`segmentation.models._peer_bands`. Re-exported by :mod:`segmentation.models`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.models._inputs import check_features
from segmentation.models._peer_bands import (
    MIN_BAND_CUSTOMERS,
    VALUE_BIN_CUSTOMERS,
    _medians_by_band,
    _robust_by_band,
    order_band,
)
from segmentation.settings import DEFAULT_ANOMALY_SHARE, DEFAULT_SEED

__all__ = [
    "BULK_FACTOR",
    "NO_QUANTITY_REASON",
    "REASON_PHRASES",
    "SECOND_REASON_Z",
    "PurchaseStyle",
]

#: Default Bulk rule: average units per line at least this multiple of the median.
BULK_FACTOR = 4.0
#: An anomaly's second reason is given only when it deviates at least this much
#: (robust z-score on the log1p scale).
SECOND_REASON_Z = 2.0
#: The reason of a Regular customer when the file has no quantities.
NO_QUANTITY_REASON = "no quantities in the file, so Bulk (units per line) is not judged"
#: How each behaviour feature is put in words; ``{x}`` customer, ``{m}`` median.
REASON_PHRASES: dict[str, str] = {
    schema.RETURN_RATE: "returned {x} of what they bought (customers with as many "
    "orders: {m})",
    schema.LARGEST_ORDER_RATIO: "largest order {x} their own median order "
    "(customers with as many orders: {m})",
    schema.ORDER_VALUE_CV: "order values swing widely: spread {x} of the mean "
    "(customers with as many orders: {m})",
}


def _at_most(scores: np.ndarray, share: float) -> float:
    """Return the score below which at most ``floor(share * n)`` of n customers lie.

    The forest score of the ``floor(share * n) + 1``-th most isolated customer:
    ``score < threshold`` flags at most ``floor(share * n)`` of the ``n``
    (fewer on ties), so a share of 2 % flags nobody among 49 customers, one
    among 50 to 99.
    """
    flagged = int(np.floor(share * len(scores) + 1e-9))
    return float(np.sort(scores)[flagged])


def _fmt(value: float, column: str = "") -> str:
    if column in (schema.RETURN_RATE, schema.ORDER_VALUE_CV):
        return f"{100 * value:.0f}%"
    if column == schema.LARGEST_ORDER_RATIO:
        return f"{value:.1f}x"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


class PurchaseStyle(BaseEstimator):
    """Purchase style: Regular, Bulk or Anomaly, with a reason in words.

    Steps of :meth:`fit`: (1) Anomaly = at most the ``anomaly_share`` of
    customers (rounded down) that an ``IsolationForest`` (Liu, Ting & Zhou
    2008) on robust z-scores of ``log1p`` of
    ``schema.ANOMALY_COLUMNS`` isolates most easily: the return rate, the
    largest order against the customer's own median order, and the spread of
    their order values, all scale-free, so that buying big is never enough
    (multiplying a customer's every quantity and amount by 10 changes none of
    them); (2) among the others, Bulk = ``avg_line_quantity >= bulk_factor *
    median(avg_line_quantity)`` (the median of all fitted customers, and
    strictly above it): typically buys in large quantities; (3) the rest are
    Regular.

    An anomaly's reason names the one or two irregularities that stand out most,
    in robust z-score terms on the log1p scale: ``(log1p(x) - median) / MAD``
    (MAD scaled to the normal; where it is 0, 1.2533 x the mean absolute
    deviation; where that is 0 too, 1); each names a different behaviour.

    Parameters
    ----------
    anomaly_share : float, default=0.02
        Largest share of Anomaly customers, 0 < share <= 0.5, rounded down to
        whole customers: overall, and within the top spend bin (see
        ``cell_threshold_``).
    bulk_factor : float, default=4.0
        Bulk threshold as a multiple of the median units per line, > 1.
    random_state : int, default=0
        Seed of the forest.

    Attributes
    ----------
    features_used_ : tuple of str
        The behaviour columns the model reads.
    anomaly_features_ : tuple of str
        The scale-free columns the forest reads (``schema.ANOMALY_COLUMNS``).
    medians_ : pandas.Series
        Median of each behaviour column (raw units) over the fitted customers.
    bulk_judged_ : bool
        False when ``avg_line_quantity`` was entirely missing (a file without
        quantities): then nobody is Bulk, and Regular customers' reason says why.
    bulk_threshold_ : float
        Units per line from which a non-anomalous customer is Bulk (NaN when
        Bulk is not judged).
    band_center_, band_scale_ : pandas.DataFrame
        Index order band (:func:`order_band`); median and robust scale of each
        log1p irregularity among the fitted customers of that band.
    band_medians_ : pandas.DataFrame
        The same bands' medians in raw units (for the reasons).
    forest_ : sklearn.ensemble.IsolationForest
        Fitted on the robust z-scores within bands.
    value_edges_ : ndarray
        Monetary edges of the spend bins (about :data:`VALUE_BIN_CUSTOMERS`
        fitted customers each).
    cell_threshold_ : pandas.Series
        Per spend bin (ascending), the forest score below which a customer is
        Anomaly: each bin's own threshold flags at most ``floor(anomaly_share x
        its customers)`` of them (:func:`_at_most`; everyone's threshold for a
        bin of fewer than :data:`MIN_BAND_CUSTOMERS`), made non-increasing over
        the bins by isotonic regression (weighted by bin size), so that it
        never rises with spend, and never above ``everyone_threshold_``. At
        most ``floor(anomaly_share x n)`` customers are Anomaly, and the top
        spend bin's threshold is never above its own: the biggest spenders are
        flagged at most at the anomaly share.
    everyone_threshold_ : float
        The threshold that flags at most ``floor(anomaly_share x n)`` of the
        ``n`` fitted customers (nobody in a file of fewer than
        ``1 / anomaly_share``, e.g. 50 customers at 2 %).
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
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Customers with all of ``schema.BEHAVIOUR_COLUMNS`` (others ignored).
            A column that is entirely missing (NaN), such as distinct_products
            for a file without stock codes or the quantity features for a file
            without quantities, is left out of the model; any other missing
            value is an error.
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
            # stock codes, the quantity features of a file without quantities)
            # is left out; without avg_line_quantity, Bulk is not judged.
            empty = {
                c for c in schema.BEHAVIOUR_COLUMNS if c in X and X[c].isna().all()
            }
        else:
            empty = set()
        self.features_used_ = (
            schema.FREQUENCY,
            schema.MONETARY,
            *(c for c in schema.BEHAVIOUR_COLUMNS if c not in empty),
        )
        self.anomaly_features_ = tuple(
            c for c in schema.ANOMALY_COLUMNS if c in self.features_used_
        )
        data = check_features(X, self.features_used_)
        if len(data) < 2:
            raise SegmentationError(
                f"purchase styles need at least 2 customers, got {len(data)}"
            )
        # 1. Each irregularity on the log1p scale, against the customers with
        #    about as many orders (more orders leave more room for a spike).
        logs = np.log1p(data[list(self.anomaly_features_)])
        bands = order_band(data[schema.FREQUENCY])
        self.band_center_, self.band_scale_ = _robust_by_band(logs, bands)
        self.band_medians_ = _medians_by_band(data[list(self.anomaly_features_)], bands)
        # 2. The forest scores how easily each customer is isolated: at most the
        #    anomaly_share most isolated customers are Anomaly.
        z = self._peer_z(data).to_numpy()
        self.forest_ = IsolationForest(random_state=self.random_state).fit(z)
        scores = self.forest_.score_samples(z)
        everyone = _at_most(scores, share)
        #    Among customers of similar spend (bins of VALUE_BIN_CUSTOMERS by
        #    monetary) no more than that share either (DESIGN section 6: being
        #    big is never enough): the biggest customers are not flagged more
        #    often than the rest.
        bins = max(len(data) // VALUE_BIN_CUSTOMERS, 1)
        self.value_edges_ = np.unique(
            np.quantile(data[schema.MONETARY], np.linspace(0, 1, bins + 1))
        )[1:-1]
        cells = self._peer_cell(data)
        own = np.array(
            [
                _at_most(scores[cells == cell], share)
                if (cells == cell).sum() >= MIN_BAND_CUSTOMERS
                else everyone
                for cell in range(len(self.value_edges_) + 1)
            ]
        )
        #    A bigger customer is never flagged more easily than a smaller one:
        #    the bins' thresholds are made non-increasing in spend by isotonic
        #    regression (weighted by bin size) and capped by everyone's, so
        #    multiplying a customer's every amount by 10 cannot make them an
        #    Anomaly. The fit of the top bin is never above its own threshold,
        #    so the biggest spenders are flagged at most at the anomaly share.
        sizes = np.bincount(cells, minlength=len(own))
        isotonic = IsotonicRegression(increasing=False).fit(
            np.arange(len(own)), own, sample_weight=np.maximum(sizes, 1)
        )
        self.cell_threshold_ = pd.Series(
            np.minimum(isotonic.predict(np.arange(len(own))), everyone),
            index=range(len(own)),
        )
        self.everyone_threshold_ = float(everyone)
        # 3. Bulk: units per line against the median customer.
        self.medians_ = data.median()
        self.bulk_judged_ = schema.AVG_LINE_QUANTITY in self.features_used_
        self.bulk_threshold_ = (
            float(self.bulk_factor * self.medians_[schema.AVG_LINE_QUANTITY])
            if self.bulk_judged_
            else float("nan")
        )
        labelled = self.predict(X)
        self.styles_ = labelled[schema.PURCHASE_STYLE]
        self.reasons_ = labelled[schema.STYLE_REASON]
        return self

    def _peer_cell(self, data: pd.DataFrame) -> np.ndarray:
        """Each customer's spend bin (the cell the anomaly share is taken in)."""
        return np.searchsorted(self.value_edges_, data[schema.MONETARY].to_numpy(float))

    def _band(self, frequency: pd.Series) -> np.ndarray:
        """Order band of each customer, within the bands this model was fitted on.

        A model saved when the top band was 17 or more orders has 6 bands:
        customers of more orders fall in its top one, as they did then.
        """
        return np.minimum(order_band(frequency), len(self.band_center_) - 1)

    def _peer_z(self, data: pd.DataFrame) -> pd.DataFrame:
        """Robust z-scores of each irregularity within the customer's order band.

        Only excess counts: a customer more regular than their peers (fewer
        returns, steadier orders) scores 0, not a negative outlier.
        """
        logs = np.log1p(data[list(self.anomaly_features_)])
        bands = self._band(data[schema.FREQUENCY])
        center = self.band_center_.reindex(bands).to_numpy()
        scale = self.band_scale_.reindex(bands).to_numpy()
        return ((logs - center) / scale).clip(lower=0.0)

    def predict(self, X):
        """Return the purchase style and reason of (new) customers.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 4)
            The columns ``features_used_`` are required: frequency and all of
            ``schema.BEHAVIOUR_COLUMNS`` except one that was entirely missing at
            fit time (the forest reads ``anomaly_features_`` against customers
            with about as many orders; the Bulk rule reads ``avg_line_quantity``).

        Returns
        -------
        pandas.DataFrame of shape (n_samples, 2)
            Index as X; columns ``purchase_style`` (``schema.PURCHASE_STYLES``) and
            ``style_reason`` ("" for Regular, or :data:`NO_QUANTITY_REASON` when
            the fitted file had no quantities).

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        check_is_fitted(self, "medians_")
        data = check_features(X, self.features_used_)
        if hasattr(self, "forest_"):
            z = self._peer_z(data)
            threshold = (
                self.cell_threshold_.reindex(self._peer_cell(data))
                .fillna(self.everyone_threshold_)
                .to_numpy()
            )
            anomaly = self.forest_.score_samples(z.to_numpy()) < threshold
        else:  # a model saved before Anomaly read irregularity only
            z = (np.log1p(data) - self.robust_center_) / self.robust_scale_
            anomaly = self.pipeline_.predict(data) == -1
        if getattr(self, "bulk_judged_", True):
            line_qty = data[schema.AVG_LINE_QUANTITY]
            median_qty = self.medians_[schema.AVG_LINE_QUANTITY]
            bulk = (
                ~anomaly & (line_qty >= self.bulk_threshold_) & (line_qty > median_qty)
            )
            regular_reason = ""
        else:  # no quantities in the file
            line_qty = pd.Series(np.nan, index=data.index)
            bulk = pd.Series(False, index=data.index)
            regular_reason = NO_QUANTITY_REASON
        styles = np.where(anomaly, schema.ANOMALY, np.where(bulk, schema.BULK, ""))
        styles = np.where(styles == "", schema.REGULAR, styles)
        reasons = [
            self._anomaly_reason(data.iloc[i], z.iloc[i])
            if anomaly[i]
            else self._bulk_reason(line_qty.iloc[i])
            if bulk.iloc[i]
            else regular_reason
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
        # Irregularity is more returns, a bigger spike, a wider swing: the
        # features that stand out above their peers, most first.
        ranked = z.sort_values(ascending=False, kind="stable")
        chosen = [ranked.index[0]]
        if len(ranked) > 1 and ranked.iloc[1] >= SECOND_REASON_Z:
            chosen.append(ranked.index[1])
        if hasattr(self, "band_medians_"):
            peers = self.band_medians_.loc[
                self._band(pd.Series([row[schema.FREQUENCY]]))[0]
            ]
        else:
            peers = self.medians_
        return "; ".join(
            REASON_PHRASES[c].format(x=_fmt(row[c], c), m=_fmt(peers[c], c))
            for c in chosen
        )
