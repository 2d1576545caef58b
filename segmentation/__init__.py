"""Customer segmentation of retail exports: the engine behind the app and the CLI.

Read an export, clean it with a receipt, build per-customer RFM and behaviour
features, and segment customers twice: value tier (k-means on log RFM) and
purchase style (Regular / Bulk / Anomaly), with personas.

>>> from segmentation import prepare, segment
>>> prepared = prepare("online_retail.xlsx")            # doctest: +SKIP
>>> result = segment(prepared, k=3)                     # doctest: +SKIP
>>> result.customers.groupby("segment").size()          # doctest: +SKIP

No Dash, Plotly or Flask here: pandas and scikit-learn only.
"""

from segmentation.errors import (
    ColumnMappingError,
    EmptyResultError,
    InputFileError,
    LimitExceededError,
    SegmentationError,
    TooFewCustomersError,
)
from segmentation.pipeline import (
    DEFAULT_ANOMALY_SHARE,
    DEFAULT_K,
    DEFAULT_SEED,
    SAMPLE_NAME,
    PreparedData,
    Segmentation,
    customers_csv,
    load_sample,
    prepare,
    run_report,
    score,
    segment,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ANOMALY_SHARE",
    "DEFAULT_K",
    "DEFAULT_SEED",
    "SAMPLE_NAME",
    "ColumnMappingError",
    "EmptyResultError",
    "InputFileError",
    "LimitExceededError",
    "PreparedData",
    "SegmentationError",
    "Segmentation",
    "TooFewCustomersError",
    "__version__",
    "customers_csv",
    "load_sample",
    "prepare",
    "run_report",
    "score",
    "segment",
]
