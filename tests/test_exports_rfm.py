"""Other shops' exports: R, F and M per customer against an independent reference.

``tests/exports_reference.py`` computes DESIGN sections 4-5 in plain pandas with
hard-coded knowledge of each file; the engine must find the same numbers on its
own, with no ``--map`` (the headerless log needs ``columns``; the file whose
dates cannot tell day from month needs ``day_first``), and say what it assumed.
"""

from __future__ import annotations

import pandas as pd
import pytest

import segmentation
from segmentation import schema
from tests import exports_reference as reference

EXPORTS = reference.EXPORTS
#: What the engine is told, per file (nothing for most). The marketplace file's
#: ``customer_id`` changes with every order: the engine warns and names
#: ``customer_unique_id`` (tested below); the reference counts that buyer.
OPTIONS = {
    "yyyymmdd_log.txt": {"columns": "customer_id,invoice_date,quantity,amount"},
    "ambiguous_dates.csv": {"day_first": True},
    "hex_order_ids.csv": {"mapping": {"customer_id": "customer_unique_id"}},
}
FILES = sorted(reference.LOADERS)
COMPARED = ["recency_days", "frequency", "monetary", "gross_monetary", "returned_value"]


@pytest.fixture(scope="module", params=FILES)
def case(request):
    name = request.param
    prepared = segmentation.prepare(
        EXPORTS / name, diagnostics=False, **OPTIONS.get(name, {})
    )
    return name, prepared, reference.rfm(reference.LOADERS[name]())


def test_customers_are_exactly_the_referenced_ones(case):
    name, prepared, expected = case
    assert sorted(prepared.features.index) == sorted(expected.index), name


def test_r_f_m_per_customer_match_the_reference(case):
    name, prepared, expected = case
    ours = prepared.features.loc[expected.index, COMPARED]
    pd.testing.assert_frame_equal(
        ours.astype(float).round(2),
        expected[COMPARED].astype(float).round(2),
        check_names=False,
        obj=name,
    )
    pd.testing.assert_series_equal(
        prepared.features.loc[expected.index, schema.RETURN_RATE],
        expected["return_rate"],
        check_names=False,
        atol=1e-9,
    )


def test_every_line_lands_in_the_referenced_bucket_counts(case):
    name, prepared, _ = case
    expected = reference.bucket_counts(reference.LOADERS[name]())
    counts = {k: v for k, v in prepared.report.counts.items() if v}
    assert counts == {k: v for k, v in expected.items() if v}, name


def test_the_rules_and_assumptions_are_said(case):
    name, prepared, _ = case
    rules = " ".join(prepared.report.rules)
    assert rules.startswith("returns: a negative quantity")
    assert "duplicates:" in rules
    if name == "yyyymmdd_log.txt":
        assert "without an invoice column" in rules
        assert any("no header row" in note for note in prepared.notes)
    if name == "hex_order_ids.csv":
        assert any(r.startswith("cancelled orders:") for r in prepared.report.rules)
        assert any("every line counts as one unit" in n for n in prepared.notes)
    if name == "office_prefixed_ids.csv":
        assert any("month/day" in note for note in prepared.notes)


def test_a_customer_column_that_changes_with_every_order_is_named():
    prepared = segmentation.prepare(EXPORTS / "hex_order_ids.csv", diagnostics=False)
    assert (prepared.features[schema.FREQUENCY] == 1).all()
    (warning,) = [n for n in prepared.notes if "single order" in n]
    assert "'customer_unique_id'" in warning
    assert "--map customer_id=customer_unique_id" in warning
