"""Upload, sample, column mapping or read settings -> PreparedData, in the background.

The job reads, cleans, builds features and sweeps k (``segmentation.prepare``) in a
separate process (``DiskcacheManager``), reporting progress; while it runs the
upload, sample button, sliders, read settings and downloads are disabled and
Cancel is shown. Bytes already prepared (same sha256, mapping and read settings)
are not parsed again. When the engine cannot match the columns, the app asks
"Which column is which?" (a question, not an error: the error alert stays
closed), with a preview of the file's first rows, and "Apply mapping" prepares
the stored bytes again with the user's choices; the choice is remembered for
that file (its sha256), so uploading the same file again goes straight to the
panels. The "Remove duplicate lines" switch and the "Dates" choice apply to
every file read; changing either prepares the dataset on screen again. Starting
a job closes an error alert left open; a new failure opens it again.
"""

from __future__ import annotations

import base64
import binascii
import time

from dash import ALL, Input, Output, State, ctx, no_update

import segmentation
from app import ids, storage, theme
from app.components.controls import day_first_of
from app.components.mapping import HIDDEN, chosen_mapping, mapping_fields
from app.layout import PAGE_TOKEN
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


def dataset_entry(sha: str, filename: str, mapping=None, **read) -> dict:
    """Return the browser's dataset store: id, file name, mapping, how it was read.

    ``read`` (``day_first``, ``drop_duplicates``) is kept only where it differs
    from the defaults, so a dataset read the default way is ``{"id",
    "filename", "mapping"}`` as before these settings existed.
    """
    entry = {"id": sha, "filename": filename, "mapping": mapping or None}
    if read.get("day_first") is not None:
        entry["day_first"] = bool(read["day_first"])
    if not read.get("drop_duplicates", True):
        entry["drop_duplicates"] = False
    return entry


def prepare_stored(
    sha: str, filename: str, mapping=None, progress=None, started=None, **read
):
    """Prepare stored bytes (once per mapping and read settings).

    Returns the dataset store (:func:`dataset_entry`) and a status line
    (its time counts from ``started``, a ``time.perf_counter()``, if given).

    Raises
    ------
    SegmentationError
        From ``segmentation.prepare`` when the file cannot be segmented.
    """
    start = time.perf_counter() if started is None else started
    store = storage.get_store()
    prepared = store.prepared(sha, mapping, progress=progress, **read)
    if progress is not None:
        progress("Fitting purchase styles", 1.0)
    # k-independent: every k of the dataset reuses them
    store.fit_styles(sha, segmentation.DEFAULT_ANOMALY_SHARE, mapping, **read)
    status = (
        f"Loaded {filename}: {theme.fmt_int(len(prepared.features))} customers "
        f"from {theme.fmt_int(prepared.report.kept)} kept lines "
        f"({time.perf_counter() - start:.1f} s)."
    )
    return dataset_entry(sha, filename, mapping, **read), status


def ingest(data: bytes, filename: str, progress=None, **read):
    """Store uploaded bytes, then :func:`prepare_stored` them.

    The bytes are stored only once the engine accepted them (or asks for
    their columns): a refused file never enters the store
    (:meth:`app.storage.Store.accept_upload`). A column mapping the user chose
    before for the same bytes is used again.
    """
    started = time.perf_counter()
    store = storage.get_store()
    sha = store.accept_upload(data, filename, progress, **read)
    mapping = store.mapping_for(sha)
    dataset, status = prepare_stored(sha, filename, mapping, progress, started, **read)
    return dataset, f"{status} {REMEMBERED}" if mapping else status


def apply_mapping(pending: dict, mapping: dict[str, str], progress=None, **read):
    """Prepare a waiting upload with the user's mapping; remember it if it works."""
    dataset, status = prepare_stored(
        pending["id"], pending["filename"], mapping, progress, **read
    )
    storage.get_store().remember_mapping(pending["id"], mapping)
    return dataset, status


def read_again(dataset: dict, progress=None, **read):
    """Prepare the dataset on screen again with other read settings."""
    return prepare_stored(
        dataset["id"], dataset["filename"], dataset.get("mapping"), progress, **read
    )


def ask_mapping(err: ColumnMappingError, waiting: dict, chosen=None) -> list:
    """Return the mapping form's fields, with a preview of the stored file."""
    try:
        data = storage.get_store().get_upload(waiting["id"])["data"]
    except SegmentationError:
        data = None
    headers = [str(h) for h in getattr(err, "headers", []) or []]
    preview = None if data is None or not headers else file_preview(data, headers)
    return mapping_fields(err, waiting["filename"], preview, chosen)


def asked(err: ColumnMappingError, waiting: dict, chosen=None) -> tuple:
    """Return the callback's outputs when the columns must be chosen.

    A question, not a failure: the error alert stays closed, the status says
    what the app waits for, and the form opens with the stored file's preview.
    """
    name = waiting["filename"]
    status = f"Which column is which? Choose the columns of {name} below."
    fields = ask_mapping(err, waiting, chosen)
    return no_update, None, False, status, fields, SHOWN, waiting


#: Inputs whose change prepares the dataset on screen again.
READ_CONTROLS = (ids.DUPLICATES_SWITCH, ids.DATE_ORDER)


def load_dataset(
    set_progress,
    contents,
    sample_clicks,
    apply_clicks,
    filename,
    choices,
    choice_ids,
    pending,
    date_order=None,
    remove_duplicates=True,
    dataset=None,
    page=None,
):
    """Background job: upload, sample (also at first load), mapping or read settings.

    The dataset is read with the "Dates" choice (``date_order``) and the
    "Remove duplicate lines" switch; changing either reads the dataset on
    screen (``dataset``) again. ``page`` is the page's token
    (:data:`app.layout.PAGE_TOKEN`): unused here, it makes the job's result
    key the page's own, so two pages sending the same file each get theirs.
    """

    def progress(step: str, fraction: float) -> None:
        set_progress((round(100 * fraction), f"{step}…"))

    trigger, name = ctx.triggered_id, filename or "upload"
    read = {
        "day_first": day_first_of(date_order),
        "drop_duplicates": remove_duplicates is not False,
    }
    chosen = chosen_mapping(choice_ids or [], choices or [])
    try:
        if trigger == ids.MAPPING_APPLY and pending:
            name = pending["filename"]
            dataset, status = apply_mapping(pending, chosen, progress, **read)
        elif trigger == ids.UPLOAD and contents:
            data = decode_contents(contents, name)
            dataset, status = ingest(data, name, progress, **read)
        elif trigger in READ_CONTROLS and dataset:
            name = dataset["filename"]
            dataset, status = read_again(dataset, progress, **read)
            return dataset, None, False, status, no_update, no_update, no_update
        else:
            name = segmentation.SAMPLE_NAME
            data = segmentation.load_sample()
            dataset, status = ingest(data, name, progress, **read)
    except ColumnMappingError as err:
        if trigger == ids.MAPPING_APPLY:
            return asked(err, pending, chosen)
        sha = dataset["id"] if trigger in READ_CONTROLS else storage.content_id(data)
        return asked(err, {"id": sha, "filename": name})
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
        ids.DUPLICATES_SWITCH,
        ids.DATE_ORDER,
    ]
    app.callback(
        output=[
            Output(ids.DATASET_STORE, "data"),
            Output(ids.ERROR_ALERT, "children"),
            Output(ids.ERROR_ALERT, "is_open"),
            Output(ids.RUN_RESULT, "children"),
            Output(ids.MAPPING_FIELDS, "children"),
            Output(ids.MAPPING_PANEL, "style"),
            Output(ids.PENDING_STORE, "data"),
        ],
        inputs={
            "contents": Input(ids.UPLOAD, "contents"),
            "sample_clicks": Input(ids.SAMPLE_BUTTON, "n_clicks"),
            "apply_clicks": Input(ids.MAPPING_APPLY, "n_clicks"),
            "date_order": Input(ids.DATE_ORDER, "value"),
            "remove_duplicates": Input(ids.DUPLICATES_SWITCH, "value"),
        },
        state={
            "filename": State(ids.UPLOAD, "filename"),
            "choices": State(ids.mapping_choice(ALL), "value"),
            "choice_ids": State(ids.mapping_choice(ALL), "id"),
            "pending": State(ids.PENDING_STORE, "data"),
            "dataset": State(ids.DATASET_STORE, "data"),
            "page": State(PAGE_TOKEN, "data"),
        },
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
