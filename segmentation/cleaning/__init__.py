"""Invoice lines -> kept lines, returns and a receipt for every line (DESIGN section 4).

:func:`clean_transactions` sorts each line into one :class:`LineReason` bucket
(``_clean``); :class:`CleaningReport` counts the buckets, the conditions and a few
examples (``_report``).
"""

from __future__ import annotations

from segmentation.cleaning._clean import (
    NON_PRODUCT_CODES,
    NON_PRODUCT_PREFIXES,
    classify_lines,
    clean_transactions,
)
from segmentation.cleaning._report import (
    EXAMPLES_PER_REASON,
    FLAG_DESCRIPTIONS,
    REASON_DESCRIPTIONS,
    REASONS,
    CleaningReport,
    LineReason,
)

__all__ = [
    "EXAMPLES_PER_REASON",
    "FLAG_DESCRIPTIONS",
    "NON_PRODUCT_CODES",
    "NON_PRODUCT_PREFIXES",
    "REASONS",
    "REASON_DESCRIPTIONS",
    "CleaningReport",
    "LineReason",
    "classify_lines",
    "clean_transactions",
]
