"""The labelled CSV's formula escaping and column order."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from segmentation import schema
from segmentation.reports import customers_csv, escape_formulas


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20 7946", "'+44 20 7946"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("alice@example.com", "alice@example.com"),
        ("17850", "17850"),
        ("a=b", "a=b"),
    ],
)
def test_text_cells_that_start_a_formula_are_escaped(cell, written):
    frame = pd.DataFrame({"customer_id": [cell], "monetary": [-5.0]})
    out = escape_formulas(frame)
    assert out.loc[0, "customer_id"] == written
    # numbers are never touched, even negative ones
    assert out.loc[0, "monetary"] == -5.0


def test_escape_keeps_missing_values_and_leaves_input_alone():
    frame = pd.DataFrame({"style_reason": ["=1", None, ""]}, dtype="string")
    out = escape_formulas(frame)
    assert out["style_reason"].tolist()[0] == "'=1"
    assert pd.isna(out["style_reason"].iloc[1])
    assert frame["style_reason"].iloc[0] == "=1"


def _customers(n: int = 2) -> pd.DataFrame:
    data = {column: [0] * n for column in schema.OUTPUT_COLUMNS}
    data[schema.CUSTOMER_ID] = ["=cmd|' /C calc'!A0", "12347"][:n]
    data[schema.STYLE_REASON] = ["", "-x"][:n]
    return pd.DataFrame(data)


def test_customers_csv_has_the_output_columns_in_order_and_escapes():
    text = customers_csv(_customers()[list(reversed(schema.OUTPUT_COLUMNS))])
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert tuple(back.columns) == schema.OUTPUT_COLUMNS
    assert back[schema.CUSTOMER_ID].tolist() == ["'=cmd|' /C calc'!A0", "12347"]
    assert back[schema.STYLE_REASON].tolist() == ["", "'-x"]
