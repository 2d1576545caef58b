"""prepare / segment / score on the built-in sample and the real exports."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import segmentation
from segmentation import (
    ColumnMappingError,
    EmptyResultError,
    InputFileError,
    SegmentationError,
    TooFewCustomersError,
    schema,
)
from segmentation.__main__ import main
from segmentation.models import STATUSES


@pytest.fixture(scope="module")
def sample():
    return segmentation.prepare(
        segmentation.load_sample(), filename=segmentation.SAMPLE_NAME
    )


def _sample_text() -> pd.DataFrame:
    """The built-in sample read by plain pandas, every field as text."""
    data = io.BytesIO(segmentation.load_sample())
    return pd.read_csv(data, dtype=str, keep_default_na=False)


def test_sample_is_400_customers_and_every_line_is_accounted_for(sample):
    # 400 customers drawn (datasets/__init__.py); 2 bought only non-products
    assert 390 <= len(sample.features) <= 400
    assert sample.report.rows_in == 32_291
    assert sum(sample.report.counts.values()) == 32_291
    # ... plus 40 whole invoices without a customer id (datasets/__init__.py):
    # their lines, counted by plain pandas by the first bucket's rule (customer
    # id empty or blank), are the lines the receipt drops as missing_customer_id
    raw = _sample_text()
    no_id = raw["CustomerID"].str.strip() == ""
    assert raw.loc[no_id, "InvoiceNo"].nunique() == 40
    assert sample.report.counts["missing_customer_id"] == no_id.sum() == 1_102


@pytest.mark.realdata
def test_sample_invoices_without_customer_are_whole_in_online_retail_i(retail_text):
    raw = _sample_text()
    invoices = set(raw.loc[raw["CustomerID"].str.strip() == "", "InvoiceNo"])
    in_real = retail_text[retail_text["InvoiceNo"].isin(invoices)]
    assert len(in_real) == 1_102  # every line of those 40 invoices, none left out
    assert (in_real["CustomerID"] == "").all()


@pytest.mark.parametrize("k", range(2, 11))
def test_every_k_from_2_to_10_gives_k_ordered_tiers(sample, k):
    result = segmentation.segment(sample, k)
    customers = result.customers
    assert tuple(customers.columns) == schema.OUTPUT_COLUMNS
    assert sorted(customers[schema.VALUE_CLUSTER].unique()) == list(range(k))
    # DESIGN 6, by plain pandas: a higher tier never has a lower median monetary
    # or median frequency
    medians = customers.groupby(schema.VALUE_CLUSTER)[
        [schema.MONETARY, schema.FREQUENCY]
    ].median()
    assert medians[schema.MONETARY].is_monotonic_increasing
    assert medians[schema.MONETARY].is_unique
    assert medians[schema.FREQUENCY].is_monotonic_increasing
    assert result.value_model.monotone_
    assert customers[schema.VALUE_TIER].nunique() == k
    # one persona per value tier x status group that has customers
    groups = customers.groupby([schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]).size()
    personas = result.personas
    assert personas.index.names == [schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]
    assert personas.index.is_unique
    assert sorted(personas.index) == sorted(groups.index)
    assert personas["customers"].reindex(groups.index).tolist() == groups.tolist()
    keys = pd.MultiIndex.from_frame(
        customers[[schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS]]
    )
    named = personas[schema.PERSONA].reindex(keys).to_numpy()
    assert (customers[schema.PERSONA].to_numpy() == named).all()
    # a group no rule of segmentation.personas names is "<tier> · <status>"; a
    # named middle-tier persona at k >= 4 is "<persona> · <tier>" instead
    status = pd.Series(personas.index.get_level_values(1), index=personas.index)
    generic = personas[schema.PERSONA].str.rsplit(" · ", n=1).str[-1] == status
    expected = personas[schema.VALUE_TIER] + " · " + personas.index.get_level_values(1)
    assert (personas.loc[generic, schema.PERSONA] == expected[generic]).all()


def _status_by_hand(features: pd.DataFrame) -> pd.Series:
    """DESIGN 6 / RecencyStatus, in plain pandas: recency against the own rhythm.

    Usual gap = (tenure - recency) / (orders - 1) for a repeat customer; for one
    order, the median gap of the repeat customers; never below 7 days. Active up
    to 2 usual gaps since the last order, Cooling up to 4, Lapsed beyond.
    """
    orders = features[schema.FREQUENCY]
    span = features[schema.TENURE_DAYS] - features[schema.RECENCY_DAYS]
    own = (span / (orders - 1)).where(orders > 1)
    gap = own.fillna(own.dropna().median()).clip(lower=7)
    late = features[schema.RECENCY_DAYS] / gap
    return pd.Series(
        np.where(late <= 2, "Active", np.where(late <= 4, "Cooling", "Lapsed")),
        index=features.index,
    )


def test_every_customer_has_the_status_of_their_own_rhythm(sample):
    customers = segmentation.segment(sample, 3).customers
    expected = _status_by_hand(sample.features)
    assert customers[schema.CUSTOMER_STATUS].tolist() == expected.tolist()
    assert set(expected) == set(STATUSES)  # the sample has all three


def test_same_data_same_k_same_seed_gives_identical_labels(sample):
    first = segmentation.segment(sample, 4).customers
    again = segmentation.segment(sample, 4).customers
    pd.testing.assert_frame_equal(first, again)


def test_more_tiers_than_customers_is_an_error_that_says_so():
    few = segmentation.prepare(
        b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
        b"1,a,2024-01-01,1,10\n2,b,2024-01-02,2,10\n3,c,2024-01-05,3,10\n",
        filename="three.csv",
    )
    with pytest.raises(TooFewCustomersError, match="k=4"):
        segmentation.segment(few, 4)


def _score(result, recency, frequency, monetary):
    records = pd.DataFrame(
        {
            schema.RECENCY_DAYS: [recency],
            schema.FREQUENCY: [frequency],
            schema.MONETARY: [monetary],
        }
    )
    return segmentation.score(result, records).iloc[0]


def test_scoring_reproduces_the_labels_of_the_run(sample):
    result = segmentation.segment(sample, 3)
    features = sample.features.reset_index()
    scored = segmentation.score(result, features)
    assert (scored[schema.VALUE_CLUSTER].to_numpy() == result.value_model.labels_).all()
    assert (scored[schema.RFM_SEGMENT] == features[schema.RFM_SEGMENT]).all()
    assert (
        scored[schema.PURCHASE_STYLE] == result.customers[schema.PURCHASE_STYLE]
    ).all()
    # A scored customer's rhythm is unknown: the run's usual gap of a one-order
    # customer is used, so the one-order customers get the run's status back ...
    one = (features[schema.FREQUENCY] == 1).to_numpy()
    assert one.sum() > 100
    run_status = result.customers[schema.CUSTOMER_STATUS].to_numpy()
    assert (scored[schema.CUSTOMER_STATUS].to_numpy()[one] == run_status[one]).all()
    # ... and every scored persona is the run's persona of its tier x status
    keys = pd.MultiIndex.from_arrays(
        [scored[schema.VALUE_CLUSTER], scored[schema.CUSTOMER_STATUS]]
    )
    expected = result.personas[schema.PERSONA].reindex(keys).to_numpy()
    assert (scored[schema.PERSONA].to_numpy() == expected).all()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (schema.MONETARY, -1.0, "monetary must be >= 0"),
        (schema.FREQUENCY, np.nan, "frequency must be a finite number"),
        (schema.RECENCY_DAYS, np.inf, "recency_days must be a finite number"),
        (schema.FREQUENCY, "many", "frequency must be a number, got 'many'"),
    ],
)
def test_scoring_rejects_bad_values_by_name(sample, field, value, message):
    result = segmentation.segment(sample, 3)
    record = {schema.RECENCY_DAYS: 5, schema.FREQUENCY: 3, schema.MONETARY: 100.0}
    record[field] = value
    with pytest.raises(SegmentationError, match=message):
        segmentation.score(result, pd.DataFrame([record], dtype=object))


@pytest.mark.parametrize(
    ("content", "name", "error", "message"),
    [
        (b"Invoice,Date,Qty,Price\n1,2024-01-01,1,2\n", "no_customer.csv",
         ColumnMappingError, "customer_id"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.xlsx",
         InputFileError, "report.xlsx"),
        (b"", "empty.csv", InputFileError, "empty.csv"),
        (b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
         b"C1,a,2024-01-01,-1,10\n", "all_cancelled.csv",
         EmptyResultError, "all_cancelled.csv"),
    ],
)  # fmt: skip
def test_files_that_cannot_be_segmented_raise_our_errors(content, name, error, message):
    with pytest.raises(error, match=message):
        segmentation.prepare(content, filename=name)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Invoice,Date,Qty,Price\n1,2024-01-01,1,2\n", "customer_id"),
        (b"%PDF-1.4\n", "bad.xlsx"),
        (b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
         b"1,a,2024-01-01,1,10\n2,b,2024-01-02,1,10\n", "k=3"),
    ],
)  # fmt: skip
def test_cli_prints_one_error_line_and_exits_2(tmp_path, capsys, content, message):
    path = tmp_path / ("bad.xlsx" if content.startswith(b"%PDF") else "bad.csv")
    path.write_bytes(content)
    assert main([str(path), "-k", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)


@pytest.mark.realdata
@pytest.mark.parametrize("k", [3, 4])
def test_scoring_places_obvious_customers_in_top_and_bottom_tiers(retail_prepared, k):
    result = segmentation.segment(retail_prepared, k)
    assert _score(result, 5, 15, 25_000)[schema.VALUE_CLUSTER] == k - 1
    assert _score(result, 250, 1, 400)[schema.VALUE_CLUSTER] == 0


@pytest.mark.realdata
def test_online_retail_ii_reads_both_sheets(retail_ii_sample, retail_ii_head):
    two_sheets = segmentation.prepare(retail_ii_sample, diagnostics=False)
    assert two_sheets.sheets_read == ["Year 2009-2010", "Year 2010-2011"]
    assert two_sheets.report.rows_in == 14_269 + 20_497
    assert two_sheets.mapping["unit_price"] == "Price"
    head = segmentation.prepare(retail_ii_head, diagnostics=False)
    assert head.report.rows_in == 998
    assert len(segmentation.segment(head, 3).customers) == len(head.features)


def test_styles_fitted_once_serve_every_k(sample):
    styles = segmentation.fit_styles(sample, anomaly_share=0.05)
    for k in (3, 5):
        reused = segmentation.segment(sample, k, anomaly_share=0.05, style_model=styles)
        fresh = segmentation.segment(sample, k, anomaly_share=0.05)
        assert reused.style_model is styles
        pd.testing.assert_frame_equal(reused.customers, fresh.customers)
