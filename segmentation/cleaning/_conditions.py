"""Every condition a line is tested for, each over the whole input, as a mask.

Private helper of :mod:`segmentation.cleaning`. The lists that decide what a
line is (non-product stock codes, the status words of a cancellation or a
return, the texts of a summary row, the return prefix of an invoice number) and
one function per condition; :func:`_conditions` returns every condition of
:data:`~segmentation.cleaning.FLAG_DESCRIPTIONS` but duplicates, which
:func:`_exact_duplicates` finds. :mod:`segmentation.cleaning._clean` turns the
conditions into buckets, the first that applies winning.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import SegmentationError

__all__ = [
    "CANCELLED_STATUS",
    "NON_PRODUCT_CODES",
    "NON_PRODUCT_PREFIXES",
    "RETURNED_STATUS",
    "RETURN_PREFIX",
    "SUMMARY_WORDS",
]

#: Stock codes that are not products (postage, fees, manual adjustments, discounts,
#: samples, bad debt, ...), compared case-insensitively after stripping spaces.
#: Edit here to change what counts as a product; ``DCGS...`` codes ARE products.
NON_PRODUCT_CODES: frozenset[str] = frozenset(
    {
        "POST",  # postage
        "DOT",  # dotcom postage
        "M",  # manual adjustment (also "m")
        "C2",  # carriage
        "D",  # discount
        "S",  # samples
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",  # charity commission
        "PADS",  # padding cushions, a packing item at a nominal price
        "B",  # adjust bad debt
    }
)
#: Stock-code prefixes that are not products (gift vouchers ``gift_0001_10``...),
#: compared case-insensitively.
NON_PRODUCT_PREFIXES: tuple[str, ...] = ("gift_",)


#: Status words (DESIGN section 4), matched as whole words in the lower-cased
#: status: an order that did not stand, and a line that came back. A status
#: saying "partially ..." marks neither (only some lines of such an order came
#: back, and the file does not say which).
CANCELLED_STATUS = re.compile(r"\b(?:cancell?ed|cancell?ation|voided|void)\b")
RETURNED_STATUS = re.compile(r"\b(?:refunded|returned)\b")
#: Cell texts that make a line a summary row (compared lower-cased, stripped of
#: spaces and a trailing colon) in the invoice, customer, stock code or
#: description column.
SUMMARY_WORDS: frozenset[str] = frozenset(
    {
        "total",
        "totals",
        "grand total",
        "subtotal",
        "sub total",
        "sub-total",
        "summe",
        "gesamt",
        "gesamtsumme",
        "total general",
        "sum",
    }
)
#: An invoice-number prefix that marks returns in some exports (UCI's
#: ``C536379``). Trusted only where the file proves it: every line of every such
#: invoice is negative. ``CA-2016-152156`` (a country) does not match.
RETURN_PREFIX = re.compile(r"^[Cc]\d")


# 1. Read the columns -------------------------------------------------------------
def _as_dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    try:
        return pd.to_datetime(column, errors="coerce", format="mixed")
    except (TypeError, ValueError) as exc:
        raise SegmentationError(
            f"column {schema.INVOICE_DATE}: cannot read the dates ({exc})"
        ) from exc


def _text_test(
    lines: pd.DataFrame, column: str, test: Callable[[pd.Series], pd.Series]
) -> np.ndarray:
    """Apply a test to the column's stripped text, once per distinct value.

    Ids, codes and statuses repeat across lines (Online Retail I: 25,900
    invoices on 541,909 lines), so the test runs on the distinct values and is
    spread back by their codes. A missing value or an absent column is ``""``.
    """
    if column not in lines.columns:
        return np.zeros(len(lines), dtype=bool)
    codes, uniques = pd.factorize(lines[column])
    texts = pd.Series(uniques, dtype="str").str.strip()
    hits = np.append(np.asarray(test(texts), dtype=bool), bool(test(_EMPTY).iloc[0]))
    return hits[codes]  # code -1 (missing) reads the last entry: the test of ""


_EMPTY = pd.Series([""], dtype="str")


def _numbers(lines: pd.DataFrame, value: str) -> dict[str, np.ndarray]:
    """Quantity (1 per line when the file has none), price or amount, line total."""
    if schema.QUANTITY in lines.columns:
        quantity = pd.to_numeric(lines[schema.QUANTITY], errors="coerce")
        quantity = quantity.to_numpy(float)
    else:
        quantity = np.ones(len(lines))
    price = pd.to_numeric(lines[value], errors="coerce").to_numpy(float)
    total = quantity * price if value == schema.UNIT_PRICE else price
    return {"quantity": quantity, "price": price, "total": total}


# 2. One condition per function, over the whole input ----------------------------
def _no_customer_id(lines: pd.DataFrame) -> np.ndarray:
    return _text_test(lines, schema.CUSTOMER_ID, lambda text: text.eq(""))


def _summary_row(lines: pd.DataFrame) -> np.ndarray:
    def is_summary(text: pd.Series) -> pd.Series:
        return text.str.lower().str.rstrip(":").str.strip().isin(SUMMARY_WORDS)

    hit = np.zeros(len(lines), dtype=bool)
    for column in (
        schema.INVOICE_ID,
        schema.CUSTOMER_ID,
        schema.STOCK_CODE,
        schema.DESCRIPTION,
    ):
        hit |= _text_test(lines, column, is_summary)
    return hit


def _status(lines: pd.DataFrame, pattern: re.Pattern) -> np.ndarray:
    def says(text: pd.Series) -> pd.Series:
        status = text.str.lower()
        return status.str.contains(pattern) & ~status.str.contains("partial")

    return _text_test(lines, schema.STATUS, says)


def _non_product_code(lines: pd.DataFrame) -> np.ndarray:
    prefixes = tuple(p.upper() for p in NON_PRODUCT_PREFIXES)
    codes = {c.upper() for c in NON_PRODUCT_CODES}

    def is_non_product(text: pd.Series) -> pd.Series:
        code = text.str.upper()
        return code.isin(codes) | code.str.startswith(prefixes)

    return _text_test(lines, schema.STOCK_CODE, is_non_product)


#: Columns hashed to find duplicate candidates when no raw-row hash is given (a
#: coarser key is fine: candidates are then compared exactly).
_HASHED = (schema.INVOICE_ID, schema.STOCK_CODE, schema.QUANTITY, schema.UNIT_PRICE)


def _exact_duplicates(
    lines: pd.DataFrame, among: np.ndarray, row_hash: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Return lines equal to an earlier line in every column of the file.

    ``"anywhere"`` compares over all lines, ``"among"`` only among the lines of
    the mask ``among``. With ``row_hash`` (a hash of each line's whole raw row,
    every column of the file) two lines are equal when their raw rows hash alike
    and their canonical columns are equal; without it, when every canonical
    column is equal. Candidates share a hash first, so a hash collision alone
    never makes a duplicate.
    """
    columns = [c for c in schema.CANONICAL_COLUMNS if c in lines.columns]
    if row_hash is not None:
        hashes = pd.Series(np.asarray(row_hash), index=lines.index, name="_raw_row")
        compared = lines[columns].assign(_raw_row=hashes)
    else:
        hashed = [c for c in _HASHED if c in lines.columns] or columns
        hashes = pd.util.hash_pandas_object(lines[hashed], index=False)
        compared = lines[columns]
    candidates = hashes.duplicated(keep=False).to_numpy()
    out = {}
    for name, rows in (("anywhere", candidates), ("among", candidates & among)):
        rows = np.flatnonzero(rows)
        out[name] = np.zeros(len(lines), dtype=bool)
        out[name][rows] = compared.iloc[rows].duplicated().to_numpy()
    return out


def _conditions(lines: pd.DataFrame, value: str) -> dict[str, np.ndarray]:
    """Every condition of :data:`FLAG_DESCRIPTIONS` but duplicates, as arrays."""
    numbers = _numbers(lines, value)
    quantity, price, total = numbers["quantity"], numbers["price"], numbers["total"]
    negative_quantity = quantity < 0
    negative_amount = (
        (total < 0) if value == schema.AMOUNT else np.zeros_like(negative_quantity)
    )
    negative = negative_quantity | negative_amount
    prefix = _text_test(
        lines, schema.INVOICE_ID, lambda text: text.str.contains(RETURN_PREFIX)
    )
    status_returned = _status(lines, RETURNED_STATUS)
    return {
        "summary_row": _summary_row(lines),
        "missing_customer_id": _no_customer_id(lines),
        "unparseable_date": _as_dates(lines[schema.INVOICE_DATE]).isna().to_numpy(),
        "non_numeric_quantity_or_price": ~(np.isfinite(quantity) & np.isfinite(price)),
        # the prefix counts only where every line of every such invoice is negative
        "return": negative
        | status_returned
        | (prefix & _prefix_proven(prefix, negative)),
        "return_prefix_invoice": prefix,
        "negative_quantity": negative_quantity,
        "negative_amount": negative_amount,
        "status_returned": status_returned,
        "status_cancelled": _status(lines, CANCELLED_STATUS),
        "zero_quantity": quantity == 0,
        "zero_price": price == 0,
        "negative_price": (price < 0) & (value == schema.UNIT_PRICE),
        "adjustment_invoice": _text_test(
            lines, schema.INVOICE_ID, lambda text: text.str.startswith(("A", "a"))
        ),
        "non_product_code": _non_product_code(lines),
    }


def _prefix_proven(prefix: np.ndarray, negative: np.ndarray) -> bool:
    """Tell whether the file proves the C prefix: every such line is negative."""
    return bool(prefix.any() and negative[prefix].all())
