"""Every default of the engine, in one place.

The command line, the app and the library read these names; nothing else in the
project writes the numbers again.
"""

from __future__ import annotations

#: Value tiers: the smallest and largest k a user can choose, and the default.
K_MIN = 2
K_MAX = 10
DEFAULT_K = 3
#: Every k the value tiers accept and the k sweep tries (DESIGN section 6).
K_RANGE = range(K_MIN, K_MAX + 1)

#: The random seed of every model (k-means, the anomaly forest, the sweep).
DEFAULT_SEED = 0

#: Share of customers the purchase-style model flags as Anomaly.
DEFAULT_ANOMALY_SHARE = 0.02

#: Saved runs kept (newest first) when ``SEGMENTATION_MAX_RUNS`` is unset.
DEFAULT_MAX_RUNS = 50

__all__ = [
    "DEFAULT_ANOMALY_SHARE",
    "DEFAULT_K",
    "DEFAULT_MAX_RUNS",
    "DEFAULT_SEED",
    "K_MAX",
    "K_MIN",
    "K_RANGE",
]
