"""Sort every invoice line into exactly one bucket: kept, or dropped for a reason.

CONTRACT (implementation pending).
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd


class LineReason(StrEnum):
    """Buckets, in the order they are tested (the first that applies wins)."""

    MISSING_CUSTOMER_ID = "missing_customer_id"
    UNPARSEABLE_DATE = "unparseable_date"
    NON_NUMERIC_QUANTITY_OR_PRICE = "non_numeric_quantity_or_price"
    CANCELLATION = "cancellation"
    NON_POSITIVE_PRICE = "non_positive_price"
    NON_PRODUCT_CODE = "non_product_code"
    EXACT_DUPLICATE = "exact_duplicate"
    KEPT = "kept"


def clean_transactions(lines: pd.DataFrame):
    """Return ``(kept_lines, cancellations, report)``."""
    raise NotImplementedError
