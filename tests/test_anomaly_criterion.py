"""Being big is never enough: the biggest customers are not Anomaly for their size.

Issue "Segments an analyst can defend", done when: among the top 1 % of customers
by monetary, the Anomaly share is at most three times the overall share (k = 3
and 4, the default anomaly share), on every real file we have: the exports in
../shared/data, the twelve shop layouts of tests/data/exports, the CDNOW sample,
and three shapes of real Online Retail I customers in tests/data/styles
(``tests/data/make_style_files.py``: a wholesale-heavy shop, 60 customers, one
country).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import schema
from segmentation.models import PurchaseStyle
from segmentation.models._peer_bands import peer_pool
from segmentation.settings import DEFAULT_ANOMALY_SHARE
from tests import exports_reference as reference
from tests.conftest import SHARED_DATA
from tests.test_exports_rfm import OPTIONS

DATA = Path(__file__).resolve().parent / "data"
#: (file, options of prepare); Online Retail I as CSV (its workbook holds the
#: same rows and is read by tests/test_loading.py).
FILES = [
    *((SHARED_DATA / name, {}) for name in ("online_retail_II_sample.xlsx",)),
    (SHARED_DATA / "online_retail_II_head.xlsx", {}),
    (SHARED_DATA / "online_retail_I.csv", {}),
    *((reference.EXPORTS / n, OPTIONS.get(n, {})) for n in sorted(reference.LOADERS)),
    (
        DATA / "cdnow" / "CDNOW_sample.txt",
        {"columns": "customer_id,-,invoice_date,quantity,amount"},
    ),
    (DATA / "styles" / "wholesale_heavy.xlsx", {}),
    (DATA / "styles" / "sixty_customers.csv", {}),
    (DATA / "styles" / "one_country.csv", {}),
]


@pytest.fixture(scope="module", params=FILES, ids=lambda f: f[0].name)
def prepared(request):
    path, options = request.param
    if not path.exists():
        pytest.skip(f"real export {path} is not available on this machine")
    return segmentation.prepare(path, diagnostics=False, **options)


@pytest.mark.realdata
@pytest.mark.parametrize("k", [3, 4])
def test_the_top_percent_by_spend_is_not_flagged_for_its_size(prepared, k):
    customers = segmentation.segment(prepared, k).customers
    n = len(customers)
    anomaly = customers[schema.PURCHASE_STYLE] == schema.ANOMALY
    top = customers[schema.MONETARY] >= customers[schema.MONETARY].quantile(0.99)
    assert top.sum() >= 1
    # at most 2 % of the customers, rounded down (nobody among fewer than 50)
    assert anomaly.sum() <= math.floor(DEFAULT_ANOMALY_SHARE * n)
    assert anomaly[top].mean() <= 3 * anomaly.mean()


def test_the_top_of_the_ii_sample_is_not_flagged_for_one_spike(retail_ii_sample):
    """14646 (145 orders, 523,203 spent) has one order 13.1x its median."""
    sample = segmentation.prepare(retail_ii_sample, diagnostics=False)
    features = sample.features
    model = segmentation.fit_styles(sample)
    assert features[schema.MONETARY].idxmax() == "14646"
    assert features.loc["14646", schema.FREQUENCY] == 145
    assert round(features.loc["14646", schema.LARGEST_ORDER_RATIO], 1) == 13.1
    # 259 customers // 50 = 5 spend bins of 51 or 52; the top one may hold
    # floor(0.02 x 52) = 1 Anomaly: 14277, who returned 76 % and had a 33x order
    top_bin = model._peer_cell(features) == len(model.value_edges_)
    assert top_bin.sum() in (51, 52)
    flagged = model.styles_[top_bin & (model.styles_ == schema.ANOMALY).to_numpy()]
    assert flagged.index.tolist() == ["14277"]
    assert features.loc["14277", schema.RETURN_RATE] == pytest.approx(0.764, abs=1e-3)
    assert model.styles_["14646"] != schema.ANOMALY


# The share, in whole customers --------------------------------------------------
def _flat(n: int, seed: int = 0) -> pd.DataFrame:
    """n customers of 3 orders, all alike but for their return rate."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            schema.FREQUENCY: 3.0,
            schema.MONETARY: 100.0,
            schema.AVG_LINE_QUANTITY: 5.0,
            schema.RETURN_RATE: rng.permutation(np.linspace(0, 0.5, n)),
            schema.LARGEST_ORDER_RATIO: 1.2,
            schema.ORDER_VALUE_CV: 0.2,
        },
        index=pd.Index([f"C{i:03d}" for i in range(n)], name=schema.CUSTOMER_ID),
    )


@pytest.mark.parametrize(
    ("n", "share", "at_most"),
    [
        (49, 0.02, 0),  # 0.98 customers: nobody
        (50, 0.02, 1),
        (99, 0.02, 1),  # 1.98
        (100, 0.02, 2),
        (12, 0.1, 1),  # 1.2
        (19, 0.05, 0),  # 0.95
    ],
)
def test_the_anomaly_share_is_whole_customers_rounded_down(n, share, at_most):
    styles = PurchaseStyle(share).fit(_flat(n)).styles_
    anomaly = styles == schema.ANOMALY
    assert anomaly.sum() <= at_most
    if at_most:  # the one who returned the most is the first flagged
        assert anomaly[_flat(n)[schema.RETURN_RATE].idxmax()]


# Peers of a thin order band --------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "band", "pooled"),
    [
        # customers per band (1, 2, 3-4, 5-8, 9-16, 17-32, 33-64, 65+)
        ([30, 30, 30, 30, 30, 30, 30, 30], 7, [7]),  # enough on its own
        ([30, 30, 30, 30, 30, 12, 5, 2], 7, [4, 5, 6, 7]),  # 2 + 5 + 12 = 19 < 20
        ([30, 30, 30, 30, 30, 13, 5, 2], 7, [5, 6, 7]),  # 20
        ([30, 30, 30, 30, 30, 15, 5, 2], 6, [5, 6]),  # fewer orders first
        ([3, 30, 30, 30, 30, 30, 30, 30], 0, [0, 1]),  # 1 order: upwards
        ([2, 2, 2, 2, 2, 2, 2, 2], 3, [0, 1, 2, 3, 4, 5, 6, 7]),  # everyone
    ],
)
def test_a_thin_order_band_is_pooled_with_its_nearest_bands(counts, band, pooled):
    bands = np.repeat(np.arange(len(counts)), counts)
    expected = np.isin(bands, pooled)
    assert (peer_pool(bands, band) == expected).all()
