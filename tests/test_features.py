"""Customer features: a table worked out on paper, score ties, RF grid, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation import schema
from segmentation.cleaning import clean_transactions
from segmentation.errors import ColumnMappingError, EmptyResultError, SegmentationError
from segmentation.features import (
    RF_SEGMENTS,
    RFM_SEGMENT_NAMES,
    customer_features,
    quintile_score,
    reference_date,
    rfm_segment,
)
from segmentation.io import load_transactions
from tests.test_cleaning import README_NON_PRODUCT, REAL_CUSTOMERS

# fmt: off
LINES = [  # invoice, customer, date, stock code, quantity, line_total
    ("1", "A", "2024-03-10 15:00", "P1",  2, 10.0),
    ("1", "A", "2024-03-10 15:00", "P2",  4,  8.0),
    ("2", "A", "2024-01-11 09:00", "P1",  6, 30.0),
    ("3", "B", "2024-03-01 12:00", "P3",  1, 50.0),
    ("4", "C", "2024-02-10 08:00", "P1", 10, 20.0),
    ("5", "C", "2024-03-01 18:00", "P1", 10, 20.0),
    ("6", "D", "2023-12-01 10:00", "P4",  3,  9.0),
]
# fmt: on
# as_of by default: the day after the last purchase (2024-03-10) = 2024-03-11.
# Returns (returned()): A 5 + 7 = 12; E 99 but E never bought, so E is no customer.
# Order values: A invoice 1 = 10 + 8 = 18, invoice 2 = 30; B 50; C 20 and 20; D 9.
# Scores with n = 4 customers: 1 + floor(5 * (customers strictly worse) / 4).
EXPECTED = pd.DataFrame(
    {
        # A: Mar 10 -> Mar 11 = 1; B, C: Mar 1 -> 10 (a tie);
        # D: Dec 1 -> Mar 11 = 31 + 31 + 29 (2024 is a leap year) + 10 = 101
        "recency_days": [1, 10, 10, 101],
        "frequency": [2, 1, 2, 1],  # distinct invoices
        # net = max(gross - returned, 0): A 48 - 12 = 36, the others return nothing
        "monetary": [36.0, 50.0, 40.0, 9.0],
        "gross_monetary": [48.0, 50.0, 40.0, 9.0],  # A: 10 + 8 + 30; C: 20 + 20
        "returned_value": [12.0, 0.0, 0.0, 0.0],  # A: 5 + 7
        # A: Jan 11 -> Mar 11 = 31 + 29 = 60; C: Feb 10 -> Mar 11 = 29 + 1 = 30
        "tenure_days": [60, 10, 30, 101],
        "avg_order_value": [18.0, 50.0, 20.0, 9.0],  # net: 36/2, 50/1, 40/2, 9/1
        "avg_items_per_order": [6.0, 1.0, 10.0, 3.0],  # A: (2+4+6)/2
        "avg_line_quantity": [4.0, 1.0, 10.0, 3.0],  # A: 12/3
        "max_line_quantity": [6.0, 1.0, 10.0, 3.0],
        "distinct_products": [2, 1, 1, 1],  # A: P1, P2
        # returned / gross: A 12 / 48 = 0.25
        "return_rate": [0.25, 0.0, 0.0, 0.0],
        # largest / median order: A 30 / ((18 + 30) / 2) = 30 / 24 = 1.25;
        # C 20 / 20 = 1; one order (B, D): 1
        "largest_order_ratio": [1.25, 1.0, 1.0, 1.0],
        # sample std / mean: A's orders 18, 30: mean 24, std = |30 - 18| / sqrt(2)
        # = 6 * sqrt(2), so 6 * sqrt(2) / 24 = sqrt(2) / 4 = 0.353553...;
        # C: two equal orders, std 0; one order: 0
        "order_value_cv": [np.sqrt(2) / 4, 0.0, 0.0, 0.0],
        # recency worse-than counts A 3, B 1, C 1, D 0 -> 1+15//4=4, 2, 2, 1
        "r_score": np.array([4, 2, 2, 1], dtype=np.int8),
        # frequency worse-than counts A 2, B 0, C 2, D 0 -> 3, 1, 3, 1
        "f_score": np.array([3, 1, 3, 1], dtype=np.int8),
        # net monetary order D 9 < A 36 < C 40 < B 50: worse counts A 1, B 3, C 2,
        # D 0 -> 1 + 5//4 = 2, 1 + 15//4 = 4, 1 + 10//4 = 3, 1
        "m_score": np.array([2, 4, 3, 1], dtype=np.int8),
        # (R, F): A (4, 3), B (2, 1), C (2, 3), D (1, 1)
        "rfm_segment": pd.array(
            ["Potential Loyalists", "Hibernating", "At Risk", "Hibernating"],
            dtype="str",
        ),
    },
    index=pd.Index(["A", "B", "C", "D"], name="customer_id", dtype="str"),
)


def purchases(rows=LINES) -> pd.DataFrame:
    invoice, customer, date, code, qty, total = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            schema.INVOICE_ID: pd.array(invoice, dtype="str"),
            schema.CUSTOMER_ID: pd.array(customer, dtype="str"),
            schema.INVOICE_DATE: pd.to_datetime(list(date)),
            schema.STOCK_CODE: pd.array(code, dtype="str"),
            schema.QUANTITY: np.array(qty, dtype=float),
            schema.LINE_TOTAL: np.array(total, dtype=float),
        }
    )


def returned() -> pd.DataFrame:
    """Return lines as cleaning gives them: positive values, none bought at once."""
    return pd.DataFrame(
        {
            schema.CUSTOMER_ID: ["A", "A", "E"],
            schema.LINE_TOTAL: [5.0, 7.0, 99.0],
            schema.RETURNED_PURCHASE: [False, False, False],
        }
    )


def test_every_feature_matches_the_hand_computed_table():
    features = customer_features(purchases(), returned())
    assert list(features.columns) == list(schema.FEATURE_COLUMNS)
    pd.testing.assert_frame_equal(features, EXPECTED, check_dtype=False)
    assert features[schema.RECENCY_DAYS].dtype == np.int64
    assert features[schema.FREQUENCY].dtype == np.int64
    assert {features[c].dtype for c in ("r_score", "f_score", "m_score")} == {
        np.dtype("int8")
    }


def test_inputs_are_not_modified():
    lines, returns = purchases(), returned()
    before = lines.copy(), returns.copy()
    customer_features(lines, returns)
    pd.testing.assert_frame_equal(lines, before[0])
    pd.testing.assert_frame_equal(returns, before[1])


def test_without_returns_every_return_rate_is_zero_and_monetary_is_gross():
    features = customer_features(purchases())
    assert features[schema.RETURN_RATE].eq(0.0).all()
    assert features[schema.RETURNED_VALUE].eq(0.0).all()
    # nothing to deduct: net = gross = 48, 50, 40, 9 (A: 10 + 8 + 30)
    assert features[schema.MONETARY].tolist() == [48.0, 50.0, 40.0, 9.0]
    assert features[schema.GROSS_MONETARY].tolist() == [48.0, 50.0, 40.0, 9.0]
    assert features[schema.AVG_ORDER_VALUE].tolist() == [24.0, 50.0, 20.0, 9.0]


def test_returns_larger_than_purchases_leave_monetary_at_zero():
    # A returns 60 of the 48 bought: net max(48 - 60, 0) = 0, rate 60/48 -> 1
    returns = pd.DataFrame({schema.CUSTOMER_ID: ["A"], schema.LINE_TOTAL: [60.0]})
    a = customer_features(purchases(), returns).loc["A"]
    assert (a.gross_monetary, a.returned_value, a.monetary) == (48.0, 60.0, 0.0)
    assert (a.return_rate, a.avg_order_value) == (1.0, 0.0)


def test_a_purchase_returned_at_once_counts_in_gross_and_in_returned():
    # B bought a line of 20 and sent it back at once (a status said returned):
    # gross 50 + 20 = 70, returned 20, net 50, rate 20 / 70
    returns = pd.DataFrame(
        {
            schema.CUSTOMER_ID: ["B"],
            schema.LINE_TOTAL: [20.0],
            schema.RETURNED_PURCHASE: [True],
        }
    )
    b = customer_features(purchases(), returns).loc["B"]
    assert (b.gross_monetary, b.returned_value, b.monetary) == (70.0, 20.0, 50.0)
    assert b.return_rate == pytest.approx(20 / 70)
    assert b.frequency == 1  # a returned line is not an order


def test_order_shape_is_scale_free():
    # every amount x 10: the ratios stay; money x 10
    bigger = purchases().assign(
        **{schema.LINE_TOTAL: purchases()[schema.LINE_TOTAL] * 10}
    )
    features = customer_features(bigger)
    assert features[schema.LARGEST_ORDER_RATIO].tolist() == [1.25, 1.0, 1.0, 1.0]
    assert features[schema.ORDER_VALUE_CV].to_numpy() == pytest.approx(
        [np.sqrt(2) / 4, 0.0, 0.0, 0.0]
    )
    assert features[schema.MONETARY].tolist() == [480.0, 500.0, 400.0, 90.0]


def test_without_stock_codes_distinct_products_is_missing():
    features = customer_features(purchases().drop(columns=schema.STOCK_CODE))
    assert features[schema.DISTINCT_PRODUCTS].isna().all()
    # no returns given: monetary is the gross column of EXPECTED
    assert features[schema.MONETARY].tolist() == EXPECTED["gross_monetary"].tolist()


def test_without_quantities_the_quantity_features_are_missing():
    lines = purchases().drop(columns=schema.QUANTITY)
    features = customer_features(lines, returned())
    quantity = list(schema.QUANTITY_FEATURES)
    assert quantity == [
        "avg_items_per_order",
        "avg_line_quantity",
        "max_line_quantity",
    ]
    assert features[quantity].isna().all().all()
    pd.testing.assert_frame_equal(
        features.drop(columns=quantity),
        EXPECTED.drop(columns=quantity),
        check_dtype=False,
    )


def test_without_invoice_ids_each_timestamp_is_an_order():
    features = customer_features(purchases().drop(columns=schema.INVOICE_ID))
    # A's lines fall at two distinct times, as its two invoices do
    assert features[schema.FREQUENCY].tolist() == [2, 1, 2, 1]


# --- as_of ----------------------------------------------------------------------
def test_as_of_defaults_to_the_day_after_the_last_purchase():
    dates = purchases()[schema.INVOICE_DATE]
    assert reference_date(dates) == pd.Timestamp("2024-03-11")


def test_explicit_as_of_is_counted_from_midnight():
    features = customer_features(purchases(), as_of="2024-03-20 18:30")
    # A: Mar 10 -> Mar 20 = 10 days; D: 101 + 9 = 110
    assert features[schema.RECENCY_DAYS].tolist() == [10, 19, 19, 110]
    assert features[schema.TENURE_DAYS].tolist() == [69, 19, 39, 110]


def test_as_of_on_the_last_purchase_day_gives_recency_zero():
    features = customer_features(purchases(), as_of=pd.Timestamp("2024-03-10"))
    assert features.loc["A", schema.RECENCY_DAYS] == 0


@pytest.mark.parametrize(
    ("as_of", "fragments"),
    [
        ("2024-03-09", ["as_of 2024-03-09 is before", "last purchase", "2024-03-10"]),
        ("2020-01-01", ["as_of 2020-01-01", "(2024-03-10)"]),
        ("not a date", ["as_of 'not a date' is not a date"]),
        ("", ["as_of '' is not a date"]),
    ],
)
def test_bad_as_of_is_explained(as_of, fragments):
    with pytest.raises(SegmentationError) as caught:
        customer_features(purchases(), as_of=as_of)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "error", "fragment"),
    [
        (purchases().drop(columns=schema.LINE_TOTAL), ColumnMappingError, "line_total"),
        (
            purchases().drop(columns=schema.INVOICE_DATE),
            ColumnMappingError,
            "invoice_date",
        ),
        (purchases().iloc[:0], EmptyResultError, "no purchase line"),
    ],
)
def test_bad_lines_are_explained(lines, error, fragment):
    with pytest.raises(error, match=fragment):
        customer_features(lines)


def test_returns_without_line_total_are_explained():
    with pytest.raises(ColumnMappingError, match="the returns lack column"):
        customer_features(purchases(), returned().drop(columns=schema.LINE_TOTAL))


# --- quintile scores ------------------------------------------------------------
def test_distinct_values_get_exact_quintiles():
    values = pd.Series(range(10, 110, 10))
    assert quintile_score(values).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # recency: fewer days is better
    reverse = quintile_score(values, higher_is_better=False).tolist()
    assert reverse == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_all_equal_values_get_the_same_score():
    assert quintile_score(pd.Series([7] * 9)).tolist() == [1] * 9
    assert quintile_score(pd.Series([7.5])).tolist() == [1]


def test_sixty_percent_ones_score_one_and_the_rest_keep_the_top():
    # ones: nobody worse -> 1; value 2: 6 of 10 worse -> 1 + 30//10 = 4;
    # 3: 7 worse -> 1 + 35//10 = 4; 4: 8 -> 5; 5: 9 -> 1 + 45//10 = 5
    values = pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert quintile_score(values).tolist() == [1] * 6 + [4, 4, 5, 5]


def test_a_tied_block_takes_the_score_of_its_first_member():
    # 0 worse -> 1; the three 5s: 1 worse -> 1 + 5//5 = 2; 9: 4 worse -> 1 + 4 = 5
    assert quintile_score(pd.Series([0, 5, 5, 5, 9])).tolist() == [1, 2, 2, 2, 5]


def test_missing_values_cannot_be_scored():
    with pytest.raises(ValueError, match="monetary: cannot score missing"):
        quintile_score(pd.Series([1.0, np.nan], name="monetary"))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=60), st.booleans())
def test_scores_are_in_range_monotone_and_equal_for_ties(values, higher_is_better):
    series = pd.Series(values)
    scores = quintile_score(series, higher_is_better=higher_is_better)
    assert scores.between(1, 5).all()
    by_value = pd.DataFrame({"v": series, "s": scores}).groupby("v")["s"]
    assert (by_value.min() == by_value.max()).all()  # equal values, equal scores
    ordered = by_value.first().sort_index()
    steps = ordered.diff().dropna()
    assert (steps >= 0).all() if higher_is_better else (steps <= 0).all()
    assert scores[series == (min if higher_is_better else max)(values)].eq(1).all()


# --- the R x F grid --------------------------------------------------------------
DESIGN_GRID = [  # DESIGN section 5: name, R scores, F scores
    ("Champions", [5], [4, 5]),
    ("Loyal", [3, 4], [4, 5]),
    ("Potential Loyalists", [4, 5], [2, 3]),
    ("New", [5], [1]),
    ("Promising", [4], [1]),
    ("Need Attention", [3], [3]),
    ("About to Sleep", [3], [1, 2]),
    ("At Risk", [1, 2], [3, 4]),
    ("Can't Lose", [1, 2], [5]),
    ("Hibernating", [1, 2], [1, 2]),
]


def test_rf_grid_covers_all_25_cells_once_with_the_design_names():
    cells = [(r, f, name) for name, rs, fs in DESIGN_GRID for r in rs for f in fs]
    assert len(cells) == 25 == len({(r, f) for r, f, _ in cells})
    assert {(r, f): name for r, f, name in cells} == RF_SEGMENTS
    assert set(RF_SEGMENTS.values()) == set(RFM_SEGMENT_NAMES)
    assert len(RFM_SEGMENT_NAMES) == 10


def test_rfm_segment_is_vectorised_and_keeps_the_index():
    r = pd.Series([5, 1, 3, 4], index=["w", "x", "y", "z"], dtype="int8")
    f = pd.Series([5, 5, 3, 1], index=["w", "x", "y", "z"], dtype="int8")
    out = rfm_segment(r, f)
    assert out.tolist() == ["Champions", "Can't Lose", "Need Attention", "Promising"]
    assert out.index.tolist() == ["w", "x", "y", "z"]
    assert out.name == "rfm_segment"
    assert rfm_segment([5], [1]).tolist() == ["New"]  # plain lists work too


@pytest.mark.parametrize(
    ("r", "f", "fragment"),
    [
        ([0], [1], "r_score must be an integer 1..5, got 0"),
        ([3], [6], "f_score must be an integer 1..5, got 6"),
        ([2.5], [1], "got 2.5"),
        ([None], [1], "got None"),
        (["high"], [1], "got 'high'"),
    ],
)
def test_bad_scores_are_named(r, f, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        rfm_segment(r, f)


# --- the real export (Online Retail I) ---------------------------------------------
@pytest.fixture(scope="session")
def retail_features(retail_loaded, retail_prepared):
    """The loaded lines, and the features ``prepare`` built from them."""
    return retail_loaded.lines, retail_prepared.features


@pytest.mark.realdata
def test_real_features_are_in_their_ranges(retail_features):
    _, features = retail_features
    assert len(features) == REAL_CUSTOMERS  # 4,334, see test_cleaning.py
    assert features.index.is_monotonic_increasing and features.index.is_unique
    assert features[schema.RECENCY_DAYS].min() >= 1
    assert (features[schema.FREQUENCY] >= 1).all()
    assert (features[schema.GROSS_MONETARY] > 0).all()  # every customer bought
    assert (features[schema.RETURNED_VALUE] >= 0).all()
    net = (features[schema.GROSS_MONETARY] - features[schema.RETURNED_VALUE]).clip(
        lower=0
    )
    pd.testing.assert_series_equal(features[schema.MONETARY], net, check_names=False)
    assert (features[schema.MONETARY] == 0).any()  # 12346 returned all (below)
    assert features[schema.RETURN_RATE].between(0, 1).all()
    assert (features[schema.LARGEST_ORDER_RATIO] >= 1).all()
    assert (features[schema.ORDER_VALUE_CV] >= 0).all()
    one_order = features[schema.FREQUENCY] == 1
    assert features.loc[one_order, schema.LARGEST_ORDER_RATIO].eq(1).all()
    assert features.loc[one_order, schema.ORDER_VALUE_CV].eq(0).all()
    for score in (schema.R_SCORE, schema.F_SCORE, schema.M_SCORE):
        assert sorted(features[score].unique()) == [1, 2, 3, 4, 5]
    one_timers = features[schema.FREQUENCY] == 1
    assert features.loc[one_timers, schema.F_SCORE].eq(1).all()
    assert set(features[schema.RFM_SEGMENT]) == set(RFM_SEGMENT_NAMES)


@pytest.mark.realdata
def test_real_monetary_and_frequency_match_plain_pandas(retail_text, retail_features):
    _, features = retail_features
    # the CSV's text, typed by plain pandas as read_csv would
    raw = retail_text.assign(
        Quantity=retail_text["Quantity"].astype("int64"),
        UnitPrice=retail_text["UnitPrice"].astype("float64"),
    )
    raw = raw[raw["CustomerID"] != ""]
    gift = raw["StockCode"].str.startswith("gift_0001_")
    product = ~raw["StockCode"].isin(README_NON_PRODUCT) & ~gift
    # the classic cleaning, then products only
    classic = raw[
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
    ].drop_duplicates()
    classic = classic[product.reindex(classic.index)]
    customer = classic["CustomerID"].str.removesuffix(".0")
    gross = (classic["Quantity"] * classic["UnitPrice"]).groupby(customer).sum()
    frequency = classic.groupby(customer)["InvoiceNo"].nunique()
    # returns: the negative product lines (every C line is one), deducted from
    # that customer's purchases; a return line repeated whole counts once, as a
    # repeated purchase does (33 such lines in this file)
    back = raw[(raw["Quantity"] < 0) & product]
    back = back[~back.duplicated()]
    back_value = -(back["Quantity"] * back["UnitPrice"])
    returned = back_value.groupby(back["CustomerID"].str.removesuffix(".0")).sum()
    returned = returned.reindex(gross.index, fill_value=0.0)
    net = (gross - returned).clip(lower=0)
    assert len(gross) == REAL_CUSTOMERS
    assert gross.loc["12347"] == pytest.approx(4310.00)  # the classic figure
    assert features.loc["12347", schema.MONETARY] == pytest.approx(4310.00)
    assert features.loc["12347", schema.RETURNED_VALUE] == 0  # no return
    for column, expected in (
        (schema.GROSS_MONETARY, gross),
        (schema.RETURNED_VALUE, returned),
        (schema.MONETARY, net),
    ):
        pd.testing.assert_series_equal(
            features[column], expected, check_names=False, check_index_type=False
        )
    assert features[schema.FREQUENCY].tolist() == frequency.tolist()
    # recency of 12347, from the raw dates: as_of = the day after the last invoice
    dates = pd.to_datetime(raw["InvoiceDate"])
    as_of = dates.max().normalize() + pd.Timedelta(days=1)
    last = dates[customer.index.intersection(raw.index[raw["CustomerID"] == "12347.0"])]
    assert features.loc["12347", schema.RECENCY_DAYS] == (
        (as_of - last.max().normalize()).days
    )


@pytest.mark.realdata
def test_real_return_rate_of_a_customer_who_returned_everything(retail_features):
    lines, features = retail_features
    # 12346 bought 74,215 units at 1.04 and returned them: 77,183.6 each way
    mine = lines[lines[schema.CUSTOMER_ID] == "12346"]
    bought = mine.loc[mine[schema.QUANTITY] > 0]
    returned_value = (mine[schema.QUANTITY] * mine[schema.UNIT_PRICE]).clip(upper=0)
    assert (bought[schema.QUANTITY] * bought[schema.UNIT_PRICE]).sum() == 77_183.6
    assert -returned_value.sum() == pytest.approx(77_183.6)
    c = features.loc["12346"]
    assert c[schema.GROSS_MONETARY] == pytest.approx(77_183.6)
    assert c[schema.RETURNED_VALUE] == pytest.approx(77_183.6)
    # net max(77,183.6 - 77,183.6, 0) = 0; returned / gross = 1
    assert c[schema.MONETARY] == pytest.approx(0.0, abs=1e-6)
    assert c[schema.RETURN_RATE] == pytest.approx(1.0)
    assert c[schema.AVG_ORDER_VALUE] == pytest.approx(0.0, abs=1e-6)
    assert c[schema.M_SCORE] == 1  # nobody has less than nothing


@pytest.mark.realdata
def test_real_net_spend_of_a_customer_who_returned_the_big_order(retail_features):
    lines, features = retail_features
    # 16446: 22980 x 1 at 1.65 + 22982 x 1 at 1.25 = 2.90 (invoice 553573), then
    # 23843 x 80,995 at 2.08 = 168,469.60 (581483), returned at once (C581484)
    mine = lines[lines[schema.CUSTOMER_ID] == "16446"]
    assert sorted(mine[schema.QUANTITY].tolist()) == [-80_995, 1, 1, 80_995]
    c = features.loc["16446"]
    assert c[schema.GROSS_MONETARY] == pytest.approx(1.65 + 1.25 + 168_469.60)
    assert c[schema.GROSS_MONETARY] == pytest.approx(168_472.50)
    assert c[schema.RETURNED_VALUE] == pytest.approx(80_995 * 2.08)  # 168,469.60
    assert c[schema.MONETARY] == pytest.approx(2.90)  # 168,472.50 - 168,469.60
    assert c[schema.FREQUENCY] == 2  # 553573, 581483
    assert c[schema.AVG_ORDER_VALUE] == pytest.approx(1.45)  # 2.90 / 2
    assert c[schema.RETURN_RATE] == pytest.approx(168_469.60 / 168_472.50)
    # orders 2.90 and 168,469.60: largest / median = 168,469.60 / 84,236.25
    assert c[schema.LARGEST_ORDER_RATIO] == pytest.approx(168_469.60 / 84_236.25)


@pytest.mark.realdata
def test_real_online_retail_ii_head_goes_through(retail_ii_head):
    lines = load_transactions(retail_ii_head).lines
    kept, returns, report = clean_transactions(lines)
    assert report.rows_in == 998 == sum(report.counts.values())
    features = customer_features(kept, returns)
    assert features[schema.FREQUENCY].min() >= 1
    assert features.index.nunique() == kept[schema.CUSTOMER_ID].nunique()
    assert features[schema.RETURN_RATE].between(0, 1).all()
