"""Helpers shared by the callbacks: from browser state to server-side results."""

from __future__ import annotations

from dash.exceptions import PreventUpdate

from app import storage


def anomaly_share(percent: float | None) -> float:
    """Convert the sensitivity slider's percent (1..10) to a share (0.01..0.10)."""
    return float(percent if percent is not None else 2) / 100.0


def dataset_id(dataset: dict | None) -> str:
    """Return the dataset id held by the browser, or stop the callback if none."""
    if not dataset or not dataset.get("id"):
        raise PreventUpdate
    return dataset["id"]


def current_prepared(dataset: dict | None):
    """Return the PreparedData of the browser's dataset (from the store)."""
    return storage.get_store().prepared(dataset_id(dataset), dataset.get("mapping"))


def current_segmentation(dataset: dict | None, k: int, percent: float | None):
    """Return the Segmentation for the browser's dataset, k and sensitivity."""
    return storage.get_store().segmentation(dataset_id(dataset), int(k),
                                            anomaly_share(percent),
                                            mapping=dataset.get("mapping"))
