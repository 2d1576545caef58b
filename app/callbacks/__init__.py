"""Callbacks, one module per concern; each module has ``register_callbacks(app)``."""

from __future__ import annotations

from app.callbacks import (
    currency,
    distributions,
    download,
    errors,
    job_status,
    methods,
    overtime,
    panels,
    pca,
    runs,
    selection,
    upload,
    whatif,
)

MODULES = (
    upload,
    job_status,
    panels,
    selection,
    download,
    runs,
    whatif,
    currency,
    overtime,
    methods,
    pca,
    distributions,
)


def register_callbacks(app) -> None:
    """Register every module's callbacks on ``app``."""
    for module in MODULES:
        module.register_callbacks(app)


__all__ = ["MODULES", "errors", "register_callbacks"]
