"""Upload and sample: bytes -> server store -> PreparedData, in a background job.

The job reads, cleans, builds features and sweeps k (``pipeline.prepare``) in a
separate process (``DiskcacheManager``), reporting progress; while it runs the
upload, sample button, sliders and downloads are disabled and Cancel is shown.
Bytes already prepared (same sha256) are not parsed again.
"""

from __future__ import annotations

import base64
import binascii
import time

from dash import Input, Output, State, ctx, no_update

from app import ids, storage, theme
from segmentation import pipeline
from segmentation.errors import InputFileError, SegmentationError

SHOWN, HIDDEN = {"display": "block"}, {"display": "none"}
STOPPED = "The last job stopped before finishing (cancelled, or the worker died)."


def decode_contents(contents: str, filename: str) -> bytes:
    """Decode a ``dcc.Upload`` data URL (``data:<type>;base64,<data>``) to bytes."""
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, ValueError, binascii.Error) as exc:
        raise InputFileError(f"{filename}: the upload arrived damaged ({exc})") from exc


def ingest(data: bytes, filename: str, progress=None) -> tuple[dict, str]:
    """Store bytes and prepare them (once); return the dataset store and a status.

    Raises
    ------
    SegmentationError
        From ``pipeline.prepare`` when the file cannot be segmented.
    """
    start = time.perf_counter()
    store = storage.get_store()
    sha = store.put_upload(data, filename)
    prepared = store.prepared(sha, progress=progress)
    status = (f"Loaded {filename}: {theme.fmt_int(len(prepared.features))} customers "
              f"from {theme.fmt_int(prepared.report.kept)} kept lines "
              f"({time.perf_counter() - start:.1f} s).")
    return {"id": sha, "filename": filename}, status


def load_dataset(set_progress, contents, sample_clicks, filename):
    """Background job: the upload (or the sample, also at first load) -> dataset."""
    def progress(step: str, fraction: float) -> None:
        set_progress((round(100 * fraction), f"{step}…"))

    try:
        if ctx.triggered_id == ids.UPLOAD and contents:
            data = decode_contents(contents, filename or "upload")
        else:
            data, filename = pipeline.load_sample(), pipeline.SAMPLE_NAME
        dataset, status = ingest(data, filename, progress)
    except SegmentationError as err:
        return no_update, str(err), True, f"Failed: {err}"
    return dataset, no_update, False, status


def register_callbacks(app) -> None:
    """Register the background upload job on ``app``."""
    disable = [ids.UPLOAD, ids.SAMPLE_BUTTON, ids.K_SLIDER, ids.ANOMALY_SLIDER,
               ids.DOWNLOAD_BUTTON, ids.REPORT_BUTTON]
    app.callback(
        Output(ids.DATASET_STORE, "data"),
        Output(ids.ERROR_ALERT, "children"),
        Output(ids.ERROR_ALERT, "is_open"),
        Output(ids.RUN_RESULT, "children"),
        Input(ids.UPLOAD, "contents"),
        Input(ids.SAMPLE_BUTTON, "n_clicks"),
        State(ids.UPLOAD, "filename"),
        background=True,
        progress=[Output(ids.PROGRESS_BAR, "value"),
                  Output(ids.PROGRESS_TEXT, "children")],
        progress_default=[0, ""],
        running=[
            *[(Output(i, "disabled"), True, False) for i in disable],
            (Output(ids.CANCEL_BUTTON, "style"), {"display": "inline-block"}, HIDDEN),
            (Output(ids.PROGRESS_BAR, "style"), {"display": "flex"}, HIDDEN),
            (Output(ids.RUN_RESULT, "children"), "", STOPPED),
        ],
        cancel=[Input(ids.CANCEL_BUTTON, "n_clicks")],
    )(load_dataset)
