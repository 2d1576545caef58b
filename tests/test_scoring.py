"""The one check of new customers' fields, and scoring a batch that mixes styles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.scoring import BEHAVIOUR_FIELDS, REQUIRED_FIELDS, validate_customers
from tests.test_runs import tiny_prepared

RFM = {"recency_days": 5, "frequency": 25, "monetary": 7_000}
# the purchase-style fields (schema.BEHAVIOUR_COLUMNS)
BEHAVIOUR = {
    "avg_line_quantity": 3.0,
    "return_rate": 0.0,
    "largest_order_ratio": 1.5,
    "order_value_cv": 0.25,
}
FULL = {**RFM, **BEHAVIOUR}
LABELS = {"recency_days": "recency (days)"}
LONG = 10**400  # an int beyond float range

# (bad record, expected message), as the second record of a batch "customers"
BAD = [
    ({}, "customers[1]: missing field(s): recency_days, frequency, monetary"),
    ({"frequency": 1}, "customers[1]: missing field(s): recency_days, monetary"),
    (
        {**RFM, "return_rate": 0.1},
        "customers[1]: give all behaviour fields or none; missing: avg_line_quantity, "
        "largest_order_ratio, order_value_cv",
    ),
    (
        {k: v for k, v in FULL.items() if k != "avg_line_quantity"},
        "customers[1]: give all behaviour fields or none; missing: avg_line_quantity",
    ),
    ({**RFM, "frequency": True}, "customers[1]: frequency must be a number, got True"),
    (
        {**RFM, "frequency": np.bool_(False)},
        "customers[1]: frequency must be a number, got False",
    ),
    (
        {**RFM, "monetary": "7000"},
        "customers[1]: monetary must be a number, got '7000'",
    ),
    ({**RFM, "frequency": None}, "customers[1]: frequency must be a number, got None"),
    (
        {**RFM, "recency_days": [5]},
        "customers[1]: recency_days must be a number, got [5]",
    ),
    (
        {**RFM, "monetary": "x" * 100},
        f"customers[1]: monetary must be a number, got '{'x' * 56}...",
    ),
    (
        {**RFM, "frequency": math.nan},
        "customers[1]: frequency must be a finite number, got nan",
    ),
    (
        {**RFM, "monetary": math.inf},
        "customers[1]: monetary must be a finite number, got inf",
    ),
    (
        {**RFM, "monetary": -math.inf},
        "customers[1]: monetary must be a finite number, got -inf",
    ),
    (
        {**RFM, "monetary": LONG},
        f"customers[1]: monetary must be a finite number, got 1{'0' * 56}...",
    ),
    ({**RFM, "frequency": -1}, "customers[1]: frequency must be >= 0, got -1"),
    (
        {**RFM, "recency_days": np.float64(-2.5)},
        "customers[1]: recency_days must be >= 0, got -2.5",
    ),
    ({**FULL, "return_rate": -0.5}, "customers[1]: return_rate must be >= 0, got -0.5"),
    (
        {**FULL, "order_value_cv": "9"},
        "customers[1]: order_value_cv must be a number, got '9'",
    ),
    (
        {**FULL, "largest_order_ratio": math.inf},
        "customers[1]: largest_order_ratio must be a finite number, got inf",
    ),
    (3, "customers[1] must be an object with the customer's fields, got 3"),
    (
        [5, 25, 7000],
        "customers[1] must be an object with the customer's fields, got [5, 25, 7000]",
    ),
]


@pytest.mark.parametrize(("record", "message"), BAD)
def test_a_bad_record_is_named_with_its_field(record, message):
    with pytest.raises(SegmentationError) as caught:
        validate_customers([FULL, record])
    assert str(caught.value) == message
    assert caught.value.record == 1


# (one customer on its own, as a form gives it: options, expected message)
FORM = {"where": None, "labels": LABELS, "text_numbers": True}
BAD_ALONE = [
    ({"frequency": 1, "monetary": 2}, FORM, "missing field(s): recency (days)"),
    ({**RFM, "recency_days": "-1"}, FORM, "recency (days) must be >= 0, got '-1'"),
    ({**RFM, "recency_days": -1}, FORM, "recency (days) must be >= 0, got -1"),
    ({**RFM, "frequency": "many"}, FORM, "frequency must be a number, got 'many'"),
    ({**RFM, "frequency": "nan"}, FORM, "frequency must be a finite number, got 'nan'"),
    (
        {**RFM, "monetary": "1e400"},
        FORM,
        "monetary must be a finite number, got '1e400'",
    ),
    ({**RFM, "frequency": True}, FORM, "frequency must be a number, got True"),
    ({**RFM, "frequency": "3"}, {"where": None}, "frequency must be a number, got '3'"),
    (
        {**RFM, "frequency": -3},
        {"where": "rows"},
        "rows[0]: frequency must be >= 0, got -3",
    ),
    (
        "text",
        {"where": None},
        "the customer must be an object with the customer's fields, got 'text'",
    ),
]


@pytest.mark.parametrize(("record", "options", "message"), BAD_ALONE)
def test_a_lone_customer_is_named_by_field_only(record, options, message):
    with pytest.raises(SegmentationError) as caught:
        validate_customers([record], **options)
    assert str(caught.value) == message


# (a customer table, expected message): every row gives the table's columns
BAD_TABLES = [
    (
        pd.DataFrame([RFM, {**RFM, "frequency": np.nan}]),
        "customers[1]: frequency must be a finite number, got nan",
    ),
    (
        pd.DataFrame([FULL, {**FULL, "largest_order_ratio": np.nan}]),
        "customers[1]: largest_order_ratio must be a finite number, got nan",
    ),
    (
        pd.DataFrame([{**RFM, "return_rate": 0.0}]),
        "customers[0]: give all behaviour fields or none; missing: avg_line_quantity, "
        "largest_order_ratio, order_value_cv",
    ),
    (
        pd.DataFrame([{"recency_days": 1, "monetary": 2}]),
        "customers[0]: missing field(s): frequency",
    ),
    (
        pd.DataFrame([RFM, {**RFM, "monetary": -1}], index=["a", "b"]),
        "customers[1]: monetary must be >= 0, got -1",
    ),
]


@pytest.mark.parametrize(("table", "message"), BAD_TABLES)
def test_a_bad_table_row_is_named_by_position(table, message):
    with pytest.raises(SegmentationError) as caught:
        validate_customers(table)
    assert str(caught.value) == message


def test_a_mixed_batch_becomes_one_float_table():
    checked = validate_customers([RFM, {**FULL, "customer_id": "c"}, RFM])
    assert tuple(checked.columns) == REQUIRED_FIELDS + BEHAVIOUR_FIELDS
    assert (checked.dtypes == "float64").all()
    assert checked.index.tolist() == [0, 1, 2]
    assert checked.loc[1].to_dict() == {k: float(v) for k, v in FULL.items()}
    assert checked.loc[[0, 2], list(BEHAVIOUR_FIELDS)].isna().all(axis=None)


def test_the_behaviour_fields_are_the_purchase_style_columns():
    assert REQUIRED_FIELDS == ("recency_days", "frequency", "monetary")
    assert BEHAVIOUR_FIELDS == (
        "avg_line_quantity",
        "return_rate",
        "largest_order_ratio",
        "order_value_cv",
    )


def test_other_fields_are_ignored():
    # the features purchase style does not read (and ids) are not checked
    extra = {
        "customer_id": "c",
        "max_line_quantity": "9",
        "distinct_products": None,
        "avg_order_value": -1,
    }
    checked = validate_customers([{**FULL, **extra}])
    assert checked.loc[0].to_dict() == {k: float(v) for k, v in FULL.items()}


def test_without_behaviour_fields_only_the_required_columns():
    checked = validate_customers([RFM, RFM])
    assert tuple(checked.columns) == REQUIRED_FIELDS
    assert validate_customers([]).shape == (0, 3)


def test_a_table_row_with_no_behaviour_values_gives_none():
    table = pd.DataFrame.from_records([RFM, FULL], index=["x", "y"])
    checked = validate_customers(table)
    assert checked.index.tolist() == ["x", "y"]
    pd.testing.assert_frame_equal(
        checked.reset_index(drop=True), validate_customers([RFM, FULL])
    )
    # its own output checks again unchanged
    pd.testing.assert_frame_equal(validate_customers(checked), checked)


def test_text_that_parses_as_a_number_is_accepted_when_asked():
    record = {"recency_days": " 12 ", "frequency": "2.5", "monetary": 0}
    checked = validate_customers([record], text_numbers=True)
    assert checked.loc[0].tolist() == [12.0, 2.5, 0.0]


def test_misuse_is_a_programming_error():
    with pytest.raises(ValueError, match="where=None names no record"):
        validate_customers([RFM, RFM], where=None)
    with pytest.raises(TypeError, match="got dict"):
        validate_customers(RFM)


# Scoring a batch that mixes customers with and without behaviour fields ------------
@pytest.fixture(scope="module")
def tiny_seg():
    return segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)


def test_score_gives_a_status_and_the_persona_of_tier_x_status(tiny_seg):
    # The tiny run (tests/test_runs.py), k=2: Low = L1..L6, High = H1..H6.
    # Usual gaps: H1..H6 100 days / 19..29 gaps = 5.3..3.4 days, floored to 7;
    # L4..L6 100 days / 1 gap = 100. A one-order customer's gap is the median of
    # these nine, 4.76, floored to 7 days; a scored customer's rhythm is unknown,
    # so they get that one: 7 days. Active <= 2 gaps, Cooling <= 4, Lapsed beyond.
    # The run's groups: (High, Active) H1..H6 [R 5, F 5: Stars]; (Low, Lapsed)
    # L1..L3 [300..320 days / 7 > 4; R 1: Gone quiet]; (Low, Cooling) L4..L6
    # [330..350 / 100 = 3.3..3.5; R 1, F 1: Drifting].
    assert tiny_seg.status_model.population_gap_days_ == 7.0
    assert tiny_seg.personas[schema.PERSONA].to_dict() == {
        (0, "Cooling"): "Drifting",
        (0, "Lapsed"): "Gone quiet",
        (1, "Active"): "Stars",
    }
    records = [
        RFM,  # High; 5 / 7 = 0.7 gaps: Active
        {**RFM, "recency_days": 20},  # High; 20 / 7 = 2.9: Cooling, no such group
        {"recency_days": 320, "frequency": 1, "monetary": 60.5},  # Low; 45.7: Lapsed
        {"recency_days": 25, "frequency": 2, "monetary": 80.0},  # Low; 3.6: Cooling
    ]
    scored = segmentation.score(tiny_seg, records)
    assert list(scored.columns) == [
        schema.VALUE_CLUSTER,
        schema.VALUE_TIER,
        schema.CUSTOMER_STATUS,
        schema.PERSONA,
        schema.R_SCORE,
        schema.F_SCORE,
        schema.M_SCORE,
        schema.RFM_SEGMENT,
    ]
    assert scored[schema.VALUE_TIER].tolist() == ["High", "High", "Low", "Low"]
    assert scored[schema.CUSTOMER_STATUS].tolist() == [
        "Active",
        "Cooling",
        "Lapsed",
        "Cooling",
    ]
    assert scored[schema.PERSONA].tolist() == [
        "Stars",
        "High · Cooling",
        "Gone quiet",
        "Drifting",
    ]


def test_score_a_mixed_batch_styles_only_who_gives_behaviour(tiny_seg):
    low = {"recency_days": 320, "frequency": 1, "monetary": 60.5}
    scored = segmentation.score(tiny_seg, [low, FULL, RFM])
    alone = segmentation.score(tiny_seg, [FULL])
    plain = segmentation.score(tiny_seg, [low, RFM])
    style = [schema.PURCHASE_STYLE, schema.STYLE_REASON]
    assert scored.loc[1].to_dict() == alone.loc[0].to_dict()
    assert scored.loc[1, schema.PURCHASE_STYLE] in schema.PURCHASE_STYLES
    assert scored.loc[[0, 2], style].isna().all(axis=None)
    pd.testing.assert_frame_equal(
        scored.drop(columns=style).loc[[0, 2]].reset_index(drop=True), plain
    )


def test_score_keeps_a_repeated_index_in_place(tiny_seg):
    table = pd.DataFrame.from_records([FULL, RFM], index=["same", "same"])
    scored = segmentation.score(tiny_seg, table)
    assert scored.index.tolist() == ["same", "same"]
    assert scored[schema.PURCHASE_STYLE].isna().tolist() == [False, True]


def test_score_an_empty_batch(tiny_seg):
    assert segmentation.score(tiny_seg, []).empty


def test_score_refuses_a_bad_record_with_its_message(tiny_seg):
    with pytest.raises(SegmentationError, match=r"^customers\[1\]: frequency must"):
        segmentation.score(tiny_seg, [RFM, {**RFM, "frequency": -1}])
