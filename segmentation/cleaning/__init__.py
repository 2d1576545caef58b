"""Invoice lines -> kept lines, returns and a receipt for every line (DESIGN section 4).

:func:`clean_transactions` sorts each line into one :class:`LineReason` bucket
(``_clean``), testing the conditions of ``_conditions``; :class:`CleaningReport`
counts the buckets, the conditions and a few examples (``_report``).
"""

from __future__ import annotations

from segmentation.cleaning._clean import classify_lines, clean_transactions
from segmentation.cleaning._conditions import NON_PRODUCT_CODES
from segmentation.cleaning._report import (
    FLAG_DESCRIPTIONS,
    REASON_DESCRIPTIONS,
    CleaningReport,
    LineReason,
)

__all__ = [
    "FLAG_DESCRIPTIONS",
    "NON_PRODUCT_CODES",
    "REASON_DESCRIPTIONS",
    "CleaningReport",
    "LineReason",
    "classify_lines",
    "clean_transactions",
]
