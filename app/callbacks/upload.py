"""Upload, sample and column mapping -> server store -> PreparedData, in the background.

The job reads, cleans, builds features and sweeps k (``segmentation.prepare``) in a
separate process (``DiskcacheManager``), reporting progress; while it runs the
upload, sample button, sliders and downloads are disabled and Cancel is shown.
Bytes already prepared (same sha256 and mapping) are not parsed again. When the
engine cannot match the columns, the mapping form asks the user (with a preview
of the file's first rows), and "Apply mapping" prepares the stored bytes again
with the user's choices; the choice is remembered for that file (its sha256), so
uploading the same file again goes straight to the panels. Starting a job closes
an error alert left open; a new failure opens it again.
"""

from __future__ import annotations

import base64
import binascii
import time

from dash import ALL, Input, Output, State, ctx, no_update

import segmentation
from app import ids, storage, theme
from app.components.mapping import HIDDEN, chosen_mapping, mapping_fields
from segmentation.errors import (
    ColumnMappingError,
    InputFileError,
    SegmentationError,
)
from segmentation.io import file_preview

SHOWN = {"display": "block"}
#: Status when a job ends without an answer; app/callbacks/job_status.py then
#: names the file (the browser knows which job it started).
STOPPED = "The last job stopped before finishing (cancelled, or the worker died)."
REMEMBERED = "Columns mapped as you chose before for this file."


def decode_contents(contents: str, filename: str) -> bytes:
    """Decode a ``dcc.Upload`` data URL (``data:<type>;base64,<data>``) to bytes."""
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, ValueError, binascii.Error) as exc:
        raise InputFileError(f"{filename}: the upload arrived damaged ({exc})") from exc


def prepare_stored(sha: str, filename: str, mapping=None, progress=None):
    """Prepare stored bytes (once per mapping); return the dataset store and a status.

    Raises
    ------
    SegmentationError
        From ``segmentation.prepare`` when the file cannot be segmented.
    """
    start = time.perf_counter()
    store = storage.get_store()
    prepared = store.prepared(sha, mapping, progress=progress)
    if progress is not None:
        progress("Fitting purchase styles", 1.0)
    store.fit_styles(sha, segmentation.DEFAULT_ANOMALY_SHARE, mapping)  # k-independent
    status = (
        f"Loaded {filename}: {theme.fmt_int(len(prepared.features))} customers "
        f"from {theme.fmt_int(prepared.report.kept)} kept lines "
        f"({time.perf_counter() - start:.1f} s)."
    )
    return {"id": sha, "filename": filename, "mapping": mapping or None}, status


def ingest(data: bytes, filename: str, progress=None):
    """Store uploaded bytes, then :func:`prepare_stored` them.

    A column mapping the user chose before for the same bytes is used again.
    """
    store = storage.get_store()
    sha = store.put_upload(data, filename)
    mapping = store.mapping_for(sha)
    dataset, status = prepare_stored(sha, filename, mapping, progress)
    return dataset, f"{status} {REMEMBERED}" if mapping else status


def apply_mapping(pending: dict, mapping: dict[str, str], progress=None):
    """Prepare a waiting upload with the user's mapping; remember it if it works."""
    dataset, status = prepare_stored(
        pending["id"], pending["filename"], mapping, progress
    )
    storage.get_store().remember_mapping(pending["id"], mapping)
    return dataset, status


def ask_mapping(err: ColumnMappingError, waiting: dict) -> list:
    """Return the mapping form's fields, with a preview of the stored file."""
    try:
        data = storage.get_store().get_upload(waiting["id"])["data"]
    except SegmentationError:
        data = None
    headers = [str(h) for h in getattr(err, "headers", []) or []]
    preview = None if data is None else file_preview(data, headers)
    return mapping_fields(err, waiting["filename"], preview)


def load_dataset(
    set_progress,
    contents,
    sample_clicks,
    apply_clicks,
    filename,
    choices,
    choice_ids,
    pending,
):
    """Background job: upload, sample (also at first load) or mapping -> dataset."""

    def progress(step: str, fraction: float) -> None:
        set_progress((round(100 * fraction), f"{step}…"))

    trigger, name = ctx.triggered_id, filename or "upload"
    try:
        if trigger == ids.MAPPING_APPLY and pending:
            name = pending["filename"]
            mapping = chosen_mapping(choice_ids or [], choices or [])
            dataset, status = apply_mapping(pending, mapping, progress)
        elif trigger == ids.UPLOAD and contents:
            dataset, status = ingest(decode_contents(contents, name), name, progress)
        else:
            name = segmentation.SAMPLE_NAME
            dataset, status = ingest(segmentation.load_sample(), name, progress)
    except ColumnMappingError as err:
        waiting = (
            pending
            if trigger == ids.MAPPING_APPLY
            else (
                {
                    "id": storage.content_id(decode_contents(contents, name)),
                    "filename": name,
                }
            )
        )
        return (
            no_update,
            str(err),
            True,
            f"Failed: {err}",
            ask_mapping(err, waiting),
            SHOWN,
            waiting,
        )
    except SegmentationError as err:
        return no_update, str(err), True, f"Failed: {err}", None, HIDDEN, None
    return dataset, None, False, status, None, HIDDEN, None


def register_callbacks(app) -> None:
    """Register the background upload job on ``app``."""
    disable = [
        ids.UPLOAD,
        ids.SAMPLE_BUTTON,
        ids.K_SLIDER,
        ids.ANOMALY_SLIDER,
        ids.DOWNLOAD_BUTTON,
        ids.REPORT_BUTTON,
        ids.MAPPING_APPLY,
    ]
    app.callback(
        Output(ids.DATASET_STORE, "data"),
        Output(ids.ERROR_ALERT, "children"),
        Output(ids.ERROR_ALERT, "is_open"),
        Output(ids.RUN_RESULT, "children"),
        Output(ids.MAPPING_FIELDS, "children"),
        Output(ids.MAPPING_PANEL, "style"),
        Output(ids.PENDING_STORE, "data"),
        Input(ids.UPLOAD, "contents"),
        Input(ids.SAMPLE_BUTTON, "n_clicks"),
        Input(ids.MAPPING_APPLY, "n_clicks"),
        State(ids.UPLOAD, "filename"),
        State(ids.mapping_choice(ALL), "value"),
        State(ids.mapping_choice(ALL), "id"),
        State(ids.PENDING_STORE, "data"),
        background=True,
        interval=500,
        progress=[
            Output(ids.PROGRESS_BAR, "value"),
            Output(ids.PROGRESS_TEXT, "children"),
        ],
        progress_default=[0, ""],
        running=[
            *[(Output(i, "disabled"), True, False) for i in disable],
            (Output(ids.CANCEL_BUTTON, "style"), {"display": "inline-block"}, HIDDEN),
            (Output(ids.PROGRESS_BAR, "style"), {"display": "flex"}, HIDDEN),
            (Output(ids.RUN_RESULT, "children"), "", STOPPED),
            (Output(ids.ERROR_ALERT, "is_open"), False, False),
        ],
        cancel=[Input(ids.CANCEL_BUTTON, "n_clicks")],
    )(load_dataset)
