"""Status: how current a customer is, from recency against their own rhythm.

:class:`RecencyStatus` calls a customer Active, Cooling or Lapsed by comparing
the days since their last order with the gap they usually leave between orders
(DESIGN section 6: recency is a status, not a value). Re-exported by
:mod:`segmentation.models`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.models._inputs import check_features

__all__ = [
    "ACTIVE",
    "COOLING",
    "COOLING_GAPS",
    "LAPSED",
    "LAPSED_GAPS",
    "MIN_GAP_DAYS",
    "STATUSES",
    "RecencyStatus",
]

ACTIVE, COOLING, LAPSED = "Active", "Cooling", "Lapsed"
#: The statuses from the most to the least current.
STATUSES: tuple[str, ...] = (ACTIVE, COOLING, LAPSED)
#: Active while the days since the last order are at most this many usual gaps;
#: Cooling up to :data:`LAPSED_GAPS` gaps; Lapsed beyond.
COOLING_GAPS = 2.0
LAPSED_GAPS = 4.0
#: The shortest usual gap, in days: two orders on one day do not make a customer
#: "late" after a day.
MIN_GAP_DAYS = 7.0


class RecencyStatus(BaseEstimator):
    """Active / Cooling / Lapsed from recency against the customer's own rhythm.

    Steps of :meth:`fit` and :meth:`predict`:

    1. a customer's usual gap between orders, in days:
       ``(tenure_days - recency_days) / (frequency - 1)`` (first to last order,
       over the gaps between them) for two orders or more; for a customer with
       one order, the population's usual gap, ``population_gap_days_`` = the
       median gap of the fitted repeat customers (their median recency_days when
       there is none); never below :data:`MIN_GAP_DAYS`;
    2. ``gaps_late = recency_days / usual gap``;
    3. Active when ``gaps_late <= COOLING_GAPS``, Cooling up to
       ``LAPSED_GAPS``, Lapsed beyond.

    The comparison of recency with the customer's own inter-purchase time is
    the idea behind the BG/NBD "alive" probability (Fader, Hardie & Lee 2005),
    here as a plain rule that an analyst can check by hand.

    Attributes
    ----------
    population_gap_days_ : float
        The usual gap of a customer with a single order.
    """

    def fit(self, X, y=None):
        """Learn the population's usual gap between orders.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Columns recency_days, frequency and tenure_days (days, orders, days).
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        SegmentationError
            For no customer, a missing column, or a missing / negative value.
        """
        data = check_features(X, _COLUMNS)
        if data.empty:
            raise SegmentationError("status needs at least one customer, got 0")
        gaps = _own_gaps(data).dropna()
        gap = gaps.median() if len(gaps) else data[schema.RECENCY_DAYS].median()
        self.population_gap_days_ = float(max(gap, MIN_GAP_DAYS))
        return self

    def usual_gap_days(self, X) -> pd.Series:
        """Return each customer's usual gap between orders, in days.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Columns recency_days, frequency and tenure_days.

        Returns
        -------
        pandas.Series of shape (n_samples,)
            Days, >= :data:`MIN_GAP_DAYS`; index of X.
        """
        check_is_fitted(self, "population_gap_days_")
        data = check_features(X, _COLUMNS)
        gaps = _own_gaps(data).fillna(self.population_gap_days_)
        return gaps.clip(lower=MIN_GAP_DAYS).rename("usual_gap_days")

    def predict(self, X) -> pd.Series:
        """Return each customer's status.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, >= 3)
            Columns recency_days, frequency and tenure_days.

        Returns
        -------
        pandas.Series of shape (n_samples,)
            One of :data:`STATUSES`, named ``status``; index of X.

        Raises
        ------
        SegmentationError
            For a missing column or a missing / negative value.
        """
        late = X[schema.RECENCY_DAYS].astype(float) / self.usual_gap_days(X)
        status = np.select(
            [late <= COOLING_GAPS, late <= LAPSED_GAPS], [ACTIVE, COOLING], LAPSED
        )
        return pd.Series(status, index=X.index, name=schema.CUSTOMER_STATUS)


_COLUMNS = (schema.RECENCY_DAYS, schema.FREQUENCY, schema.TENURE_DAYS)


def _own_gaps(data: pd.DataFrame) -> pd.Series:
    """First-to-last days over the gaps between orders; NaN for one order."""
    orders = data[schema.FREQUENCY].astype(float)
    span = data[schema.TENURE_DAYS] - data[schema.RECENCY_DAYS]
    return (span / (orders - 1)).where(orders >= 2)
