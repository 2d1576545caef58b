"""The cleaning receipt: the buckets, what they mean, and the report of one file.

:class:`LineReason` lists the buckets in the order they are tested,
:data:`REASON_DESCRIPTIONS` and :data:`FLAG_DESCRIPTIONS` put buckets and
conditions in plain words, and :class:`CleaningReport` counts every bucket and
keeps a few example lines (DESIGN section 4). Re-exported by
:mod:`segmentation.cleaning`, which sorts the lines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.reports import json_scalar

__all__ = [
    "EXAMPLES_PER_REASON",
    "FLAG_DESCRIPTIONS",
    "REASONS",
    "REASON_DESCRIPTIONS",
    "CleaningReport",
    "LineReason",
    "report_examples",
]


class LineReason(StrEnum):
    """Buckets, in the order they are tested (the first that applies wins)."""

    SUMMARY_ROW = "summary_row"
    MISSING_CUSTOMER_ID = "missing_customer_id"
    UNPARSEABLE_DATE = "unparseable_date"
    NON_NUMERIC_QUANTITY_OR_PRICE = "non_numeric_quantity_or_price"
    RETURN = "return"
    CANCELLED_ORDER = "cancelled_order"
    NON_POSITIVE_PRICE = "non_positive_price"
    NON_PRODUCT_CODE = "non_product_code"
    EXACT_DUPLICATE = "exact_duplicate"
    KEPT = "kept"


#: What each bucket means, in plain words (the cleaning receipt shows these).
REASON_DESCRIPTIONS: dict[str, str] = {
    LineReason.SUMMARY_ROW: "A summary row (Total, Subtotal, Grand total), not a "
    "purchase.",
    LineReason.MISSING_CUSTOMER_ID: "No customer id: the line cannot be attributed "
    "to a customer.",
    LineReason.UNPARSEABLE_DATE: "The invoice date is missing or not a date.",
    LineReason.NON_NUMERIC_QUANTITY_OR_PRICE: "The quantity or the price (or line "
    "amount) is missing or not a number.",
    LineReason.RETURN: "A return: a negative quantity or line total, or a status "
    "that says refunded or returned; its value is deducted from the customer's "
    "spend.",
    LineReason.CANCELLED_ORDER: "A line of an order whose status says it was "
    "cancelled or voided: not a purchase.",
    LineReason.NON_POSITIVE_PRICE: "No positive value: a price (or amount) of zero "
    "or below, e.g. free items and bad-debt adjustments, or a quantity of zero.",
    LineReason.NON_PRODUCT_CODE: "Not a product: postage, fees, discounts, manual "
    "adjustments, samples or gift vouchers.",
    LineReason.EXACT_DUPLICATE: "An exact copy of an earlier line of the same "
    "invoice (every column of the file equal), counted once.",
    LineReason.KEPT: "Kept: a purchase of a product by a known customer.",
}

#: Conditions counted over the whole input, one line may show several.
FLAG_DESCRIPTIONS: dict[str, str] = {
    "summary_row": "lines that are a Total, Subtotal or Grand total row",
    "missing_customer_id": "lines without a customer id",
    "unparseable_date": "lines whose date is missing or not a date",
    "non_numeric_quantity_or_price": "lines whose quantity or price is not a number",
    "return": "lines that are returns (negative, or a status saying so)",
    "return_prefix_invoice": "lines on invoices whose number is C and a digit",
    "negative_quantity": "lines with a negative quantity",
    "negative_amount": "lines with a negative line total (amount)",
    "status_returned": "lines whose status says refunded or returned",
    "status_cancelled": "lines whose status says cancelled or voided",
    "zero_quantity": "lines with a quantity of 0",
    "zero_price": "lines with a price (or amount) of 0",
    "negative_price": "lines with a negative price (or amount)",
    "adjustment_invoice": "lines on invoices whose number starts with A "
    "(adjustments such as bad debt)",
    "non_product_code": "lines whose stock code is not a product",
    "exact_duplicate": "lines identical in every column to an earlier line",
}

#: Buckets renamed since reports were first saved: old name -> today's.
_RENAMED_REASONS = {"cancellation": str(LineReason.RETURN)}

EXAMPLES_PER_REASON = 3
_EXAMPLE_COLUMNS = (
    schema.INVOICE_ID,
    schema.STOCK_CODE,
    schema.QUANTITY,
    schema.UNIT_PRICE,
    schema.CUSTOMER_ID,
)
#: Every bucket, in the order tested; a bucket code is an index into it.
REASONS: tuple[LineReason, ...] = tuple(LineReason)


@dataclass
class CleaningReport:
    """How many invoice lines went to each bucket, and why.

    Attributes
    ----------
    rows_in : int
        Lines read.
    counts : dict of str to int
        Lines per :class:`LineReason` value (every reason, ``kept`` included), in
        bucket order; they sum to ``rows_in``.
    flagged : dict of str to int
        Lines showing each condition of :data:`FLAG_DESCRIPTIONS`, counted over the
        whole input and not exclusively (a line may be in several).
    examples : list of dict
        Up to three lines per dropped reason: ``reason``, ``row`` (the line's index
        label in the loaded table, 0-based), ``invoice_id``, ``stock_code``,
        ``quantity``, ``unit_price``, ``customer_id`` (``None`` where absent), plus
        ``amount`` when the file has a line total.
    rules : list of str
        The rules this file was cleaned by, one sentence each, for the user: how
        returns were recognised (and whether an invoice prefix was trusted), the
        duplicate policy, cancelled orders.

    Raises
    ------
    ValueError
        At construction, when ``counts`` misses a reason or does not sum to
        ``rows_in``.
    """

    rows_in: int
    counts: dict[str, int]
    flagged: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if set(self.counts) != {str(r) for r in REASONS}:
            raise ValueError(f"counts must cover every LineReason: {self.counts}")
        if sum(self.counts.values()) != self.rows_in:
            raise ValueError(
                f"bucket counts sum to {sum(self.counts.values())}, "
                f"not rows_in={self.rows_in}"
            )

    def __setstate__(self, state: dict) -> None:
        """Read a report pickled by an older version (renamed or new buckets)."""
        counts = _current_counts(state.get("counts", {}))
        self.__dict__.update(
            {**state, "counts": counts, "rules": state.get("rules", [])}
        )

    @property
    def kept(self) -> int:
        """Lines kept as purchases."""
        return self.counts[LineReason.KEPT]

    @property
    def dropped(self) -> int:
        """Lines in every bucket but ``kept`` (returns included)."""
        return self.rows_in - self.kept

    def to_frame(self) -> pd.DataFrame:
        """Return the receipt: one row per bucket, in bucket order.

        Returns
        -------
        pandas.DataFrame of shape (10, 4)
            Columns ``reason``, ``lines``, ``share_pct`` (percent of ``rows_in``,
            0 when there is no line) and ``description`` (plain words).
        """
        lines = [self.counts[r] for r in REASONS]
        share = [100.0 * n / self.rows_in if self.rows_in else 0.0 for n in lines]
        return pd.DataFrame(
            {
                "reason": [str(r) for r in REASONS],
                "lines": pd.array(lines, dtype="int64"),
                "share_pct": share,
                "description": [REASON_DESCRIPTIONS[r] for r in REASONS],
            }
        )

    def to_dict(self) -> dict:
        """Return the report as JSON-ready built-in types (plus kept and dropped)."""
        return {**asdict(self), "kept": self.kept, "dropped": self.dropped}

    @classmethod
    def from_dict(cls, data: dict) -> CleaningReport:
        """Rebuild a report from :meth:`to_dict` output (derived keys ignored)."""
        return cls(
            rows_in=int(data["rows_in"]),
            counts=_current_counts(data["counts"]),
            flagged={str(k): int(v) for k, v in data.get("flagged", {}).items()},
            examples=list(data.get("examples", [])),
            rules=list(data.get("rules", [])),
        )


def _current_counts(counts: dict) -> dict[str, int]:
    """Return counts under today's bucket names (renamed moved, new ones 0)."""
    renamed = {_RENAMED_REASONS.get(str(k), str(k)): int(v) for k, v in counts.items()}
    return {str(r): renamed.get(str(r), 0) for r in REASONS}


def report_examples(lines: pd.DataFrame, bucket: np.ndarray) -> list[dict]:
    """Return up to :data:`EXAMPLES_PER_REASON` lines of every dropped bucket.

    Parameters
    ----------
    lines : pandas.DataFrame of shape (n_lines, n_columns)
        Canonical invoice lines.
    bucket : ndarray of shape (n_lines,)
        Each line's bucket, an index into :data:`REASONS`.

    Returns
    -------
    list of dict
        The ``examples`` of :class:`CleaningReport`, in bucket order.
    """
    columns = list(_EXAMPLE_COLUMNS)
    if schema.AMOUNT in lines.columns:
        columns.append(schema.AMOUNT)
    out = []
    for code, reason in enumerate(REASONS):
        if reason is LineReason.KEPT:
            continue
        for row in np.flatnonzero(bucket == code)[:EXAMPLES_PER_REASON]:
            line = lines.iloc[row]
            example = {"reason": str(reason), "row": json_scalar(lines.index[row])}
            for column in columns:
                example[column] = json_scalar(line[column]) if column in line else None
            out.append(example)
    return out
