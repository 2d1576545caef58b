"""The first screen: the built-in sample, ready before the first visitor.

A page opens on the sample. Preparing it (read, clean, features, the k sweep)
and segmenting it take seconds, so the server does it once when it starts, in a
background thread (:func:`start`): from then on each new page comes with the
sample's panels already drawn in its layout (:func:`app.layout.serve_layout`
reads :func:`ready`), with its dataset, warm-up store and every k's panels
(so k changes are drawn in the browser from the start). The page's callbacks
would only draw the same again: the panels' callback skips it once
(:func:`app.callbacks.panels.render_panels_once`). A page opened before the
thread is done shows placeholders that say what is coming and gets the sample
the usual way (the upload callback's background job).
"""

from __future__ import annotations

import logging
import threading

_LOG = logging.getLogger(__name__)
_READY: dict = {}
_LOCK = threading.Lock()


def prepare() -> dict:
    """Prepare and segment the sample for every k; return what a page needs.

    Returns
    -------
    dict
        ``dataset`` (the dataset store, as the upload callback gives it for the
        sample), ``warm`` and ``views``
        (:func:`app.callbacks.panels.warm_every_k_views`), at the sensitivity
        slider's default; ``shown``: the drawn panels at the default k,
        ``{(component id, property): value}`` as plain data; ``first``: what
        they show (:func:`app.callbacks.panels.first_key`); ``choice``: the
        recommended k (:func:`app.callbacks.panels.k_choice`).

    Raises
    ------
    segmentation.errors.SegmentationError
        When the sample cannot be prepared (a damaged installation).
    """
    import segmentation
    from app.callbacks import panels
    from app.callbacks.upload import ingest
    from app.components.controls import ANOMALY_DEFAULT_PCT, K_DEFAULT

    dataset, _status = ingest(segmentation.load_sample(), segmentation.SAMPLE_NAME)
    shown = panels.first_panels(dataset, K_DEFAULT, ANOMALY_DEFAULT_PCT)
    warm, views = panels.warm_every_k_views(dataset, ANOMALY_DEFAULT_PCT)
    return {
        "dataset": dataset,
        "warm": warm,
        "views": views,
        "shown": shown,
        "first": panels.first_key(dataset, K_DEFAULT, ANOMALY_DEFAULT_PCT),
        "choice": panels.k_choice(dataset),
    }


def _run() -> None:
    try:
        result = prepare()
    except Exception:  # the page then loads the sample the usual way
        _LOG.exception("preparing the sample for the first screen failed")
        return
    with _LOCK:
        _READY.update(result)


def start() -> threading.Thread:
    """Prepare the sample in a daemon thread (see :func:`prepare`); return it."""
    thread = threading.Thread(target=_run, name="first-screen", daemon=True)
    thread.start()
    return thread


def ready() -> dict | None:
    """Return the sample's ``dataset``, ``warm`` and ``views`` once prepared."""
    with _LOCK:
        return dict(_READY) if _READY else None
