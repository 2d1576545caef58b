"""Customer segmentation of retail exports: the engine behind the app and the CLI.

Read an export, clean it with a receipt, build per-customer RFM and behaviour
features, and segment customers twice: value tier (k-means on log RFM) and
purchase style (Regular / Bulk / Anomaly), with personas.

>>> import segmentation
>>> prepared = segmentation.prepare("online_retail.xlsx")   # doctest: +SKIP
>>> result = segmentation.segment(prepared, k=3)            # doctest: +SKIP
>>> result.customers.groupby("segment").size()              # doctest: +SKIP

No Dash, Plotly or Flask here: pandas and scikit-learn only. The names below are
imported on first use, so that ``import segmentation`` stays light (scikit-learn
alone takes about a second to import).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from segmentation.errors import (
    ColumnMappingError,
    EmptyResultError,
    InputFileError,
    LimitExceededError,
    NotReopenableError,
    RunNotFoundError,
    SegmentationError,
    TooFewCustomersError,
)

if TYPE_CHECKING:
    from segmentation.datasets import SAMPLE_NAME
    from segmentation.pipeline import fit_styles, load_sample, prepare, segment
    from segmentation.reports import customers_csv, run_report
    from segmentation.results import PreparedData, Segmentation
    from segmentation.runs import RunStore
    from segmentation.scoring import score
    from segmentation.settings import (
        DEFAULT_ANOMALY_SHARE,
        DEFAULT_K,
        DEFAULT_SEED,
        K_MAX,
        K_MIN,
    )

#: Public name -> the module that defines it (imported on first use).
_LAZY = {
    "DEFAULT_ANOMALY_SHARE": "segmentation.settings",
    "DEFAULT_K": "segmentation.settings",
    "DEFAULT_SEED": "segmentation.settings",
    "K_MAX": "segmentation.settings",
    "K_MIN": "segmentation.settings",
    "PreparedData": "segmentation.results",
    "RunStore": "segmentation.runs",
    "SAMPLE_NAME": "segmentation.datasets",
    "Segmentation": "segmentation.results",
    "customers_csv": "segmentation.reports",
    "fit_styles": "segmentation.pipeline",
    "load_sample": "segmentation.pipeline",
    "prepare": "segmentation.pipeline",
    "run_report": "segmentation.reports",
    "score": "segmentation.scoring",
    "segment": "segmentation.pipeline",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'segmentation' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ANOMALY_SHARE",
    "DEFAULT_K",
    "DEFAULT_SEED",
    "K_MAX",
    "K_MIN",
    "SAMPLE_NAME",
    "ColumnMappingError",
    "EmptyResultError",
    "InputFileError",
    "LimitExceededError",
    "NotReopenableError",
    "PreparedData",
    "RunNotFoundError",
    "RunStore",
    "Segmentation",
    "SegmentationError",
    "TooFewCustomersError",
    "__version__",
    "customers_csv",
    "fit_styles",
    "load_sample",
    "prepare",
    "run_report",
    "score",
    "segment",
]
