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
#: orders (1, 2, 3-4, 5-8, 9-16, 17-32, 33-64, 65 or more): the more orders, the
#: more room for one far above the customer's median.
ORDER_BAND_EDGES: tuple[int, ...] = (1, 2, 3, 5, 9, 17, 33, 65)
#: Customers per spend bin (by monetary) in which the anomaly share is taken.
VALUE_BIN_CUSTOMERS = 50
#: A band with fewer customers is pooled with its nearest bands (fewer orders
#: first) until the pool has this many (everyone, if the file has fewer).
MIN_BAND_CUSTOMERS = 20


def order_band(frequency: pd.Series) -> np.ndarray:
    """Return each customer's order-count band, 0..5 (:data:`ORDER_BAND_EDGES`)."""
    edges = np.asarray(ORDER_BAND_EDGES)
    band = np.searchsorted(edges, frequency.to_numpy(float), side="right") - 1
    return np.clip(band, 0, len(edges) - 1)


def peer_pool(bands: np.ndarray, band: int) -> np.ndarray:
    """Return the customers a band is judged against (a boolean mask).

    The band itself when it holds :data:`MIN_BAND_CUSTOMERS`; else pooled with
    its nearest neighbours, the band of fewer orders first at equal distance
    (the one-order band can only grow upwards, the top band downwards), until
    the pool holds that many; everyone when the whole file has fewer.
    """
    low = high = band
    pool = bands == band
    top = len(ORDER_BAND_EDGES) - 1
    while pool.sum() < MIN_BAND_CUSTOMERS and (low > 0 or high < top):
        if low > 0 and (high == top or band - low <= high - band):
            low -= 1
        else:
            high += 1
        pool = (bands >= low) & (bands <= high)
    return pool


def _robust_by_band(
    logs: pd.DataFrame, bands: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Median and robust scale of each column per band (its pool where thin)."""
    centers, scales = {}, {}
    for band in range(len(ORDER_BAND_EDGES)):
        centers[band], scales[band] = _robust(logs[peer_pool(bands, band)])
    return pd.DataFrame(centers).T, pd.DataFrame(scales).T


def _robust(logs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    center = logs.median()
    mad = pd.Series(median_abs_deviation(logs, scale="normal"), index=logs.columns)
    mean_ad = (logs - center).abs().mean() * np.sqrt(np.pi / 2)
    return center, mad.where(mad > 0, mean_ad).where(lambda s: s > 0, 1.0)


def _medians_by_band(data: pd.DataFrame, bands: np.ndarray) -> pd.DataFrame:
    """Median of each column (raw units) over each band's pool."""
    rows = {
        band: data[peer_pool(bands, band)].median()
        for band in range(len(ORDER_BAND_EDGES))
    }
    return pd.DataFrame(rows).T
