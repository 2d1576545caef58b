"""BG/NBD and Gamma-Gamma against the papers, an independent library and hand sums.

References (tests/data/cdnow/README.md): the published CDNOW parameters of
Fader, Hardie & Lee (2005) "Counting your customers the easy way" (r 0.243,
alpha 4.414, a 0.793, b 2.426, weeks; log-likelihood -9582.4) and "RFM and CLV"
(p 6.25, q 3.74, v 15.44); and lifetimes 0.11.3's maximum-likelihood fits
(pandas 2.1.4, numpy 1.26.4, scipy 1.11.4, in a separate virtual environment:
tests/data/cdnow/lifetimes_reference.py wrote lifetimes_reference.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from segmentation.errors import SegmentationError
from segmentation.lifetime import (
    BetaGeoFit,
    GammaGammaFit,
    LifetimeSettings,
    bgnbd_log_likelihood,
    clv,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_lifetime,
    order_summary,
)

CDNOW = Path(__file__).parent / "data" / "cdnow"
REFERENCE = json.loads((CDNOW / "lifetimes_reference.json").read_text())
PAPER_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """Hardie's 39-week calibration summary of the 2,357 sample customers."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def bgnbd(summary) -> BetaGeoFit:
    return fit_bgnbd(summary["x"], summary["t_x"], summary["T"])


@pytest.fixture(scope="module")
def cdnow_lines() -> pd.DataFrame:
    """CDNOW_sample.txt as the engine's kept lines (no invoice column)."""
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "dollars"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "invoice_date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "line_total": raw["dollars"].astype(float),
        }
    )


def _close(got: dict, expected: dict, rel: float) -> None:
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=rel), name


def test_bgnbd_recovers_the_published_cdnow_parameters(bgnbd):
    assert bgnbd.converged
    # The paper prints 3 decimals: within half a unit of the last one.
    for name, value in PAPER_BGNBD.items():
        assert getattr(bgnbd, name) == pytest.approx(value, abs=0.0005 + 1e-9), name
    assert bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_agrees_with_lifetimes_maximum_likelihood(bgnbd, summary):
    reference = REFERENCE["weeks"]
    _close(vars(bgnbd), reference["bgnbd"], rel=1e-4)
    rows = summary.set_index("ID").loc[[int(i) for i in reference["customers"]]]
    args = (rows["x"], rows["t_x"], rows["T"])
    p_alive = bgnbd.p_alive(*args)
    expected = bgnbd.expected_orders(39, *args)
    for i, (ref, p, e) in enumerate(
        zip(reference["customers"].values(), p_alive, expected, strict=True)
    ):
        assert p == pytest.approx(ref["p_alive"], rel=1e-4), i
        assert e == pytest.approx(ref["expected_orders_39w"], rel=1e-4), i
    total = bgnbd.expected_orders(39, summary["x"], summary["t_x"], summary["T"])
    assert total.sum() == pytest.approx(reference["expected_orders_39w_total"], 1e-4)


def test_gamma_gamma_recovers_the_paper_and_lifetimes(summary):
    repeat = summary[summary["x"] > 0]
    assert len(repeat) == 946  # the paper's repeat customers
    fit = fit_gamma_gamma(repeat["x"], repeat["zbar"])
    assert fit.converged
    _close(vars(fit), PAPER_GAMMA_GAMMA, rel=0.005)  # printed to 2-3 digits
    _close(vars(fit), REFERENCE["weeks"]["gamma_gamma"], rel=1e-4)


def test_p_alive_by_hand():
    fit = BetaGeoFit(1.0, 2.0, 0.5, 3.0, 0.0, True, "", 1)
    # x=2, t_x=10, T=20: 1 / (1 + 0.5/(3+2-1) * (22/12)^3)
    by_hand = 1 / (1 + 0.125 * (22 / 12) ** 3)
    got = fit.p_alive([0, 2], [0, 10], [20, 20])
    assert got == pytest.approx([1.0, by_hand], rel=1e-12)


def test_expected_orders_equal_equation_10_written_directly(bgnbd, summary):
    """Euler's transformation changes nothing where scipy's 2F1 is accurate."""
    r, alpha, a, b = bgnbd.params
    x, t_x, T = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    t = 39.0
    z = t / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    alive = 1 + (x > 0) * a / np.maximum(b + x - 1, 1e-12) * (
        (alpha + T) / (alpha + t_x)
    ) ** (r + x)
    direct = (a + b + x - 1) / (a - 1) * bracket / alive
    assert bgnbd.expected_orders(t, x, t_x, T) == pytest.approx(direct, rel=1e-9)


def test_expected_orders_of_a_frequent_buyer_stay_finite_and_grow():
    # 300 repeat orders: the direct 2F1(r+x, b+x; ...) term is 0 * inf here.
    fit = BetaGeoFit(0.7, 50.0, 0.03, 2.9, 0.0, True, "", 1)
    orders = fit.expected_orders(90, [300, 300], [370, 370], [373, 373])
    longer = fit.expected_orders(180, [300], [370], [373])
    assert np.isfinite(orders).all() and 0 < orders[0] < longer[0]
    # ~0.8 orders a day observed: about 73 in 90 days, less the drop-out risk.
    assert 50 < orders[0] < 90


def test_gamma_gamma_expected_spend_by_hand():
    fit = GammaGammaFit(6.0, 4.0, 15.0, 0.0, True, "", 1)
    # p (v + x m) / (p x + q - 1): x=2, m=30 -> 6 * 75 / 15 = 30; x=0 -> 6*15/3
    assert fit.expected_spend([2, 0], [30.0, np.nan]) == pytest.approx([30.0, 30.0])
    assert fit.population_mean == pytest.approx(30.0)


def test_clv_telescopes_without_discount_and_discounting_lowers_it(bgnbd):
    one = pd.DataFrame({"x": [3.0], "t_x": [20.0], "T": [30.0]})
    spend = np.array([10.0])
    plain = clv(bgnbd, spend, one, 52.0, 0.0)
    expected = bgnbd.expected_orders(52.0, one["x"], one["t_x"], one["T"]) * 10.0
    assert plain == pytest.approx(expected, rel=1e-12)
    assert clv(bgnbd, spend, one, 52.0, 0.01)[0] < plain[0]


def test_log_likelihood_is_finite_and_higher_at_the_fit(bgnbd, summary):
    args = (summary["x"], summary["t_x"], summary["T"])
    at_fit = bgnbd_log_likelihood(bgnbd.params, *args).sum()
    elsewhere = bgnbd_log_likelihood((0.3, 4.0, 0.8, 2.4), *args).sum()
    assert np.isfinite(at_fit) and at_fit > elsewhere


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1], [5], [4], "0 <= t_x <= T"),
        ([-1], [0], [4], "x >= 0"),
        ([1], [np.nan], [4], "customer 0"),
    ],
)
def test_impossible_summaries_are_refused_by_row(x, t_x, T, message):
    with pytest.raises(SegmentationError, match="customer 0"):
        fit_bgnbd(x, t_x, T)
    with pytest.raises(SegmentationError, match=message.replace("(", r"\(")):
        fit_bgnbd(x, t_x, T)


def test_gamma_gamma_refuses_non_repeat_customers():
    with pytest.raises(SegmentationError, match=r"customer 1: .* x >= 1"):
        fit_gamma_gamma([2, 0], [10.0, 5.0])


# The engine on a real transaction log held back: 39 weeks of CDNOW ----------------


def test_the_order_summary_counts_same_day_orders_once_as_hardie(cdnow_lines):
    summary = order_summary(cdnow_lines, pd.Timestamp("1997-10-01"))
    days = REFERENCE["days"]
    assert len(summary) == days["customers"] == 2357
    assert summary["x"].sum() == days["summary_x_total"] == 2457
    assert summary["t_x"].sum() == days["summary_t_x_total"]
    # T runs to as_of (the first day after the data), lifetimes' to the last
    # day of calibration: one day longer for each customer.
    assert summary["T"].sum() == days["summary_T_total"] + 2357


def test_holdout_of_39_weeks_agrees_with_lifetimes_within_5_percent(cdnow_lines):
    result = fit_lifetime(
        cdnow_lines, pd.Timestamp("1998-07-01"), LifetimeSettings(holdout_days=273)
    )
    holdout = result.report["holdout"]
    days = REFERENCE["days"]
    assert holdout["calibration_end"] == "1997-10-01"
    assert holdout["customers"] == 2357
    # Same data, T one day longer (above): the parameters move by up to 3 %.
    _close(holdout["bgnbd"], days["bgnbd"], rel=0.05)
    assert holdout["predicted_orders"] == pytest.approx(
        days["predicted_orders"], rel=0.05
    )
    assert holdout["actual_orders"] == days["actual_orders"] == 1882
    groups = holdout["by_repeat_orders"]
    assert [g["repeat_orders"] for g in groups] == [*map(str, range(7)), "7+"]
    assert sum(g["customers"] for g in groups) == 2357
    assert sum(g["actual_orders"] for g in groups) == 1882
    assert sum(g["predicted_orders"] for g in groups) == pytest.approx(
        holdout["predicted_orders"]
    )
