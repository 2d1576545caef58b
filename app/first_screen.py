"""The first screen: the built-in sample, ready before the first visitor.

A page opens on the sample. Preparing it (read, clean, features, the k sweep)
and segmenting it take seconds, so the server does it once when it starts, in a
process of its own, before it listens (:func:`prepare_before_serving`, from
the server's master process; a web process created otherwise prepares it in
the background, :func:`start`): from then on each new page comes with the
sample's panels already drawn in its layout (:func:`app.layout.serve_layout`
reads :func:`ready`), with its dataset, warm-up store and every k's panels
(so k changes are drawn in the browser from the start). When the page's first
job sets the same dataset again, the browser does not draw it again
(:data:`app.layout.FIRST_SCREEN`). A page opened before the sample is ready
shows placeholders that say what is coming and gets the sample the usual way
(the upload callback's background job).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
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


def _child(conn) -> None:
    """In the preparing process: send :func:`prepare`'s result, or the failure."""
    try:
        conn.send(prepare())
    except Exception as err:  # the server logs it and goes on
        conn.send({"failed": f"{type(err).__name__}: {err}"})
    finally:
        conn.close()


def _run() -> None:
    """Prepare in a process of its own, keep what it sends back.

    A process, not this thread: preparing holds the interpreter for seconds,
    and in the web process it slowed the first visitor's own requests (their
    first screen took 23 s instead of 14 s). The process writes the sample's
    results to the data folder's store, so the page's callbacks read them
    there. It is stopped if the server stops first.
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send,), name="first-screen")
    process.start()
    atexit.register(_stop, process)
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        _LOG.error("preparing the sample for the first screen stopped")
        return
    finally:
        process.join(10)
        if not process.is_alive():
            # nothing to stop at exit; and a web process forked from this one
            # (the server's master) must not ask after another's child
            atexit.unregister(_stop)
    if "failed" in result:
        _LOG.error("preparing the sample for the first screen: %s", result["failed"])
        return
    with _LOCK:
        _READY.update(result)


def _stop(process) -> None:
    if process.is_alive():
        process.terminate()


def start() -> threading.Thread | None:
    """Prepare the sample in another process (:func:`prepare`) and keep it.

    Nothing to do when it is ready already: the server's master process
    prepared it before listening (:func:`prepare_before_serving`) and the web
    process, forked from it, holds the result.

    Returns
    -------
    threading.Thread or None
        The daemon thread that waits for the process and keeps its result;
        None when the sample was ready.
    """
    if ready() is not None:
        return None
    thread = threading.Thread(target=_run, name="first-screen", daemon=True)
    thread.start()
    return thread


def prepare_before_serving() -> bool:
    """Prepare the sample now, in a process of its own; wait for it.

    Called by the server's master process before it listens
    (``on_starting`` in :mod:`app.gunicorn_conf`): the web processes it forks
    then hold the sample's panels from their first request, so the first
    visitor after a start gets the first screen at once instead of waiting
    for the preparation (7.9 s on a quiet 2-core machine). The server answers
    a few seconds later than before, once the sample is ready. A failure is
    logged and the server starts without it (pages then get the sample the
    usual way).

    Returns
    -------
    bool
        Whether the sample is ready.
    """
    _run()
    return ready() is not None


def ready() -> dict | None:
    """Return the sample's ``dataset``, ``warm`` and ``views`` once prepared."""
    with _LOCK:
        return dict(_READY) if _READY else None
