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

#: Clustering methods of the value tiers (DESIGN sections 6 and 7), and the default.
METHODS: tuple[str, ...] = ("kmeans", "gmm", "ward", "hdbscan")
DEFAULT_METHOD = "kmeans"
#: Ward is fitted on at most this many customers (a fixed-seed sample above it; the
#: others join the nearest centroid): its distance matrix grows with n squared.
WARD_SAMPLE = 5_000
#: HDBSCAN's ``min_samples`` (density smoothing), fixed so that k, which sets the
#: smallest group (``min_cluster_size``), does not also decide what is noise.
HDBSCAN_MIN_SAMPLES = 10

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
    "DEFAULT_METHOD",
    "DEFAULT_SEED",
    "HDBSCAN_MIN_SAMPLES",
    "K_MAX",
    "K_MIN",
    "K_RANGE",
    "METHODS",
    "WARD_SAMPLE",
]
