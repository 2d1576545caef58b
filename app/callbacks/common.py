"""Helpers shared by the callbacks: from browser state to server-side results."""

from __future__ import annotations

from dash.exceptions import PreventUpdate

from app import storage
from segmentation import settings
from segmentation.errors import TooFewCustomersError


def anomaly_share(percent: float | None) -> float:
    """Convert the sensitivity slider's percent (1..10) to a share (0.01..0.10)."""
    return float(percent if percent is not None else 2) / 100.0


def dataset_id(dataset: dict | None) -> str:
    """Return the dataset id held by the browser, or stop the callback if none."""
    if not dataset or not dataset.get("id"):
        raise PreventUpdate
    return dataset["id"]


def read_settings(dataset: dict | None) -> dict:
    """Return how the browser's dataset was read: ``day_first``, ``drop_duplicates``.

    The dataset store holds them only when they differ from the defaults
    (None: the data decides the date order; True: duplicates removed).
    """
    dataset = dataset or {}
    return {
        "day_first": dataset.get("day_first"),
        "drop_duplicates": dataset.get("drop_duplicates", True),
    }


def current_prepared(dataset: dict | None):
    """Return the PreparedData of the browser's dataset (from the store)."""
    return storage.get_store().prepared(
        dataset_id(dataset), dataset.get("mapping"), **read_settings(dataset)
    )


def method_of(dataset: dict | None) -> str:
    """Return the value tiers' method of the browser's dataset (default k-means).

    The dataset store carries the "Method" choice (``method``) so that every
    callback that reads the segmentation on screen follows it
    (:mod:`app.callbacks.methods`); a store without it is k-means.
    """
    return (dataset or {}).get("method") or settings.DEFAULT_METHOD


def current_segmentation(dataset: dict | None, k: int, percent: float | None):
    """Return the Segmentation for the browser's dataset, k, sensitivity and method."""
    return storage.get_store().segmentation(
        dataset_id(dataset),
        int(k),
        anomaly_share(percent),
        mapping=dataset.get("mapping"),
        **read_settings(dataset),
        method=method_of(dataset),
    )


def warm_every_k(dataset: dict | None, percent: float | None, k_values) -> dict:
    """Segment the browser's dataset for each k (stored), stopping at too large a k.

    Returns ``{"id", "anomaly_share", "k"}``: what is now ready in the store.
    """
    ready = []
    for k in k_values:
        try:
            current_segmentation(dataset, k, percent)
        except TooFewCustomersError:
            break  # the panels say so if the user chooses this k
        ready.append(int(k))
    return {
        "id": dataset_id(dataset),
        "anomaly_share": anomaly_share(percent),
        "k": ready,
    }
