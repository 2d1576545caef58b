"""Peers of a customer for :class:`PurchaseStyle`: order bands and robust scales.

A customer's irregularities are judged against the customers with about as many
orders (:func:`order_band`, :data:`ORDER_BAND_EDGES`): the median and robust
scale of each ``log1p`` irregularity per band, and its median in raw units (for
the reasons), everyone's where a band is thin (:data:`MIN_BAND_CUSTOMERS`).
:data:`VALUE_BIN_CUSTOMERS` sizes the spend bins in which the anomaly share is
taken. Private helper of :mod:`segmentation.models._purchase_style`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

#: Order-count bands: customers are compared with those of about as many
#: orders (1, 2, 3-4, 5-8, 9-16, 17 or more).
ORDER_BAND_EDGES: tuple[int, ...] = (1, 2, 3, 5, 9, 17)
#: Customers per spend bin (by monetary) in which the anomaly share is taken.
VALUE_BIN_CUSTOMERS = 50
#: A band with fewer customers borrows the centre and scale of everyone.
MIN_BAND_CUSTOMERS = 20


def order_band(frequency: pd.Series) -> np.ndarray:
    """Return each customer's order-count band, 0..5 (:data:`ORDER_BAND_EDGES`)."""
    edges = np.asarray(ORDER_BAND_EDGES)
    band = np.searchsorted(edges, frequency.to_numpy(float), side="right") - 1
    return np.clip(band, 0, len(edges) - 1)


def _robust_by_band(
    logs: pd.DataFrame, bands: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Median and robust scale of each column per band (everyone's where thin)."""
    center_all, scale_all = _robust(logs)
    centers, scales = {}, {}
    for band in range(len(ORDER_BAND_EDGES)):
        rows = logs[bands == band]
        enough = len(rows) >= MIN_BAND_CUSTOMERS
        centers[band], scales[band] = (
            _robust(rows) if enough else (center_all, scale_all)
        )
    return pd.DataFrame(centers).T, pd.DataFrame(scales).T


def _robust(logs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    center = logs.median()
    mad = pd.Series(median_abs_deviation(logs, scale="normal"), index=logs.columns)
    mean_ad = (logs - center).abs().mean() * np.sqrt(np.pi / 2)
    return center, mad.where(mad > 0, mean_ad).where(lambda s: s > 0, 1.0)


def _medians_by_band(data: pd.DataFrame, bands: np.ndarray) -> pd.DataFrame:
    everyone = data.median()
    rows = {
        band: (
            data[bands == band].median()
            if (bands == band).sum() >= MIN_BAND_CUSTOMERS
            else everyone
        )
        for band in range(len(ORDER_BAND_EDGES))
    }
    return pd.DataFrame(rows).T
