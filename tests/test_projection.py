"""The PCA view's engine function against a hand computation (numpy SVD)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.models import principal_components


def _by_hand(values: np.ndarray):
    """Standardise log1p values (population sd), then SVD: ratios and axes."""
    logged = np.log1p(values)
    z = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    _, s, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
    return z, s**2 / (s**2).sum(), vt


@pytest.fixture(scope="module")
def prepared():
    return segmentation.prepare(
        segmentation.load_sample(), filename=segmentation.SAMPLE_NAME
    )


def test_explained_variance_and_axes_match_an_svd(prepared):
    features = prepared.features
    z, ratios, vt = _by_hand(features[list(schema.VALUE_FEATURES)].to_numpy(float))
    projection = principal_components(features)
    assert projection.explained_variance_ratio == pytest.approx(ratios, abs=1e-12)
    # two standardised features: PC1 explains (1 + |r|) / 2
    r = np.corrcoef(z.T)[0, 1]
    assert projection.explained_variance_ratio[0] == pytest.approx((1 + abs(r)) / 2)
    for row, axis in zip(projection.loadings.to_numpy(), vt, strict=True):
        assert abs(row @ axis) == pytest.approx(1.0)  # same axis, up to sign
        assert row[np.argmax(np.abs(row))] > 0  # the sign rule
    scores = z @ projection.loadings.to_numpy().T
    assert projection.coordinates.to_numpy() == pytest.approx(scores, abs=1e-9)
    assert list(projection.coordinates.index) == list(features.index)
    assert list(projection.coordinates.columns) == ["PC1", "PC2"]


def test_three_customers_by_hand():
    # log1p(x) = 0, 1, 2 on frequency; monetary its mirror: r = -1
    e = np.e
    table = pd.DataFrame(
        {
            schema.FREQUENCY: [0.0, e - 1, e**2 - 1],
            schema.MONETARY: [e**2 - 1, e - 1, 0.0],
        },
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )
    projection = principal_components(table)
    assert projection.explained_variance_ratio == pytest.approx([1.0, 0.0], abs=1e-12)
    # z = -1.2247, 0, 1.2247 and its mirror: PC1 = ±(z_f - z_m) / sqrt(2), so
    # the end customers sit at ±2 * 1.2247 / sqrt(2) = ±sqrt(3), the middle at 0
    pc1 = projection.coordinates["PC1"].to_numpy()
    assert abs(pc1[0]) == pytest.approx(np.sqrt(3), abs=1e-9)
    assert pc1[1] == pytest.approx(0.0, abs=1e-9)
    assert pc1[0] == pytest.approx(-pc1[2])


@pytest.mark.parametrize(
    ("table", "n", "error", "words"),
    [
        (pd.DataFrame({schema.FREQUENCY: [1.0, 2.0]}), 2, SegmentationError, "lacks"),
        (
            pd.DataFrame({schema.FREQUENCY: [1.0, -2.0], schema.MONETARY: [1, 2]}),
            2,
            SegmentationError,
            "negative",
        ),
        (
            pd.DataFrame({schema.FREQUENCY: [1.0, 2.0], schema.MONETARY: [1, 2]}),
            3,
            ValueError,
            "choose 1..2",
        ),
        (
            pd.DataFrame({schema.FREQUENCY: [1.0], schema.MONETARY: [1.0]}),
            2,
            ValueError,
            "1 customer",
        ),
    ],
)
def test_bad_input_is_named(table, n, error, words):
    with pytest.raises(error, match=words):
        principal_components(table, n_components=n)
