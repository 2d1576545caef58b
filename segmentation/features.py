"""One row per customer: RFM and behaviour features. CONTRACT (pending)."""

from __future__ import annotations

import pandas as pd


def customer_features(
    lines: pd.DataFrame,
    cancellations: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Return one row per customer, columns ``schema.FEATURE_COLUMNS``."""
    raise NotImplementedError
