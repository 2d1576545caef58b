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


def _text(lines: pd.DataFrame, column: str) -> pd.Series:
    """Return the column as stripped text, ``""`` where missing or absent."""
    if column not in lines.columns:
        return pd.Series("", index=lines.index, dtype="str")
    return lines[column].astype("str").fillna("").str.strip()


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
def _no_customer_id(lines: pd.DataFrame) -> pd.Series:
    return _text(lines, schema.CUSTOMER_ID).eq("")


def _summary_row(lines: pd.DataFrame) -> np.ndarray:
    hit = np.zeros(len(lines), dtype=bool)
    for column in (
        schema.INVOICE_ID,
        schema.CUSTOMER_ID,
        schema.STOCK_CODE,
        schema.DESCRIPTION,
    ):
        if column in lines.columns:
            text = _text(lines, column).str.lower().str.rstrip(":").str.strip()
            hit |= text.isin(SUMMARY_WORDS).to_numpy(bool)
    return hit


def _status(lines: pd.DataFrame, pattern: re.Pattern) -> np.ndarray:
    status = _text(lines, schema.STATUS).str.lower()
    says = status.str.contains(pattern) & ~status.str.contains("partial")
    return says.to_numpy(bool)


def _non_product_code(lines: pd.DataFrame) -> pd.Series:
    code = _text(lines, schema.STOCK_CODE).str.upper()
    prefixes = tuple(p.upper() for p in NON_PRODUCT_PREFIXES)
    return code.isin({c.upper() for c in NON_PRODUCT_CODES}) | code.str.startswith(
        prefixes
    )


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
    invoice = _text(lines, schema.INVOICE_ID)
    negative_quantity = quantity < 0
    negative_amount = (
        (total < 0) if value == schema.AMOUNT else np.zeros_like(negative_quantity)
    )
    negative = negative_quantity | negative_amount
    prefix = invoice.str.contains(RETURN_PREFIX).to_numpy(bool)
    status_returned = _status(lines, RETURNED_STATUS)
    return {
        "summary_row": _summary_row(lines),
        "missing_customer_id": _no_customer_id(lines).to_numpy(bool),
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
        "adjustment_invoice": invoice.str.startswith(("A", "a")).to_numpy(bool),
        "non_product_code": _non_product_code(lines).to_numpy(bool),
    }


def _prefix_proven(prefix: np.ndarray, negative: np.ndarray) -> bool:
    """Tell whether the file proves the C prefix: every such line is negative."""
    return bool(prefix.any() and negative[prefix].all())
