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

from importlib import import_module

from segmentation.errors import (
    ColumnMappingError,
    EmptyResultError,
    InputFileError,
    LimitExceededError,
    SegmentationError,
    TooFewCustomersError,
)

# The pipeline (and with it scikit-learn) is imported on first use, so that
# ``import segmentation.schema`` stays light.
_PIPELINE_NAMES = frozenset(
    {
        "DEFAULT_ANOMALY_SHARE",
        "DEFAULT_K",
        "DEFAULT_SEED",
        "SAMPLE_NAME",
        "PreparedData",
        "Segmentation",
        "customers_csv",
        "load_sample",
        "prepare",
        "run_report",
        "score",
        "segment",
    }
)


def __getattr__(name: str):
    if name in _PIPELINE_NAMES:
        return getattr(import_module("segmentation.pipeline"), name)
    raise AttributeError(f"module 'segmentation' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "ColumnMappingError",
    "EmptyResultError",
    "InputFileError",
    "LimitExceededError",
    "SegmentationError",
    "TooFewCustomersError",
    "__version__",
    *sorted(_PIPELINE_NAMES),
]
