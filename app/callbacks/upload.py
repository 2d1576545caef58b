"""Upload, sample, column mapping or read settings -> PreparedData, in the background.

A chosen file travels to ``POST /upload`` as it is read (``assets/upload.js``,
:mod:`app.upload_route`), with a progress bar in bytes; the route's answer (a
staged upload's id) lands in ``ids.UPLOADED_STORE`` and starts the job here.
At page load the job opens what the page's address names
(:mod:`app.callbacks.view_url`), or the sample. The job reads, cleans, builds
features and sweeps k (``segmentation.prepare``) in a separate process
(``DiskcacheManager``), reporting progress; while it runs the upload, sample
button, sliders, read settings and downloads are disabled and
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
from app import ids, storage, theme, upload_route
from app.callbacks import view_url
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


def ingest(data: bytes, filename: str, progress=None, sha: str | None = None, **read):
    """Store uploaded bytes, then :func:`prepare_stored` them.

    The bytes are stored only once the engine accepted them (or asks for
    their columns): a refused file never enters the store
    (:meth:`app.storage.Store.accept_upload`). A column mapping the user chose
    before for the same bytes is used again. ``sha`` is the bytes' sha256 when
    known (the upload route's, :mod:`app.upload_route`): not computed again.
    """
    started = time.perf_counter()
    store = storage.get_store()
    sha = store.accept_upload(data, filename, progress, sha=sha, **read)
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


def progress_reporter(set_progress, name: str, size: int | None = None):
    """Return the engine's ``progress(step, fraction)`` as the job's progress.

    The bar shows the engine's fraction; the text names the step, the file
    (with its size when known) and the seconds spent so far, e.g. ``Parsing
    sheet 'Year 2010-2011' (online_retail_II.xlsx, 44.5 MB): 12 s``. Each
    workbook sheet's parse is its own step (the engine reports them).
    """
    started = time.perf_counter()
    what = name if size is None else f"{name}, {size / 2**20:.1f} MB"

    def progress(step: str, fraction: float) -> None:
        seconds = time.perf_counter() - started
        set_progress((round(100 * fraction), f"{step} ({what}): {seconds:.0f} s"))

    return progress


def open_view(view: dict, progress=None, **read):
    """Prepare the dataset a page's address names (:mod:`app.callbacks.view_url`).

    Returns the dataset store and a status. The dataset is read as it was when
    the link was made (its own read settings, not the controls').

    Raises
    ------
    SegmentationError
        When the dataset is no longer in the store (evicted).
    """
    entry = view["dataset"]
    read = {
        "day_first": entry.get("day_first"),
        "drop_duplicates": entry.get("drop_duplicates", True),
    }
    dataset, status = prepare_stored(
        entry["id"], entry["filename"], entry.get("mapping"), progress, **read
    )
    return dataset, f"Reopened from the page address: {status}"


def load_sample(progress, read, said: str | None = None):
    """Load the built-in sample; return the job's outputs.

    ``said`` (why, e.g. a link that failed) opens the error alert and starts
    the status.
    """
    dataset, status = ingest(
        segmentation.load_sample(), segmentation.SAMPLE_NAME, progress, **read
    )
    if said:
        return dataset, said, True, f"{said} {status}", None, HIDDEN, None
    return dataset, None, False, status, None, HIDDEN, None


def load_dataset(
    set_progress,
    uploaded,
    sample_clicks,
    apply_clicks,
    view,
    choices,
    choice_ids,
    pending,
    date_order=None,
    remove_duplicates=True,
    dataset=None,
    page=None,
):
    """Background job: an uploaded file, the sample, a mapping or read settings.

    ``uploaded`` (``ids.UPLOADED_STORE``) names a file ``assets/upload.js``
    sent to ``POST /upload``: the job takes it from the staging folder (only
    for this page, ``page`` being the page's token :data:`app.layout.PAGE_TOKEN`)
    and stores it only if the engine accepts it. ``view`` (``ids.VIEW_STORE``,
    set once at page load) opens the dataset the page's address names, or the
    sample when there is none; when the address's dataset cannot be opened the
    page says why and shows the sample. The dataset is read with the "Dates"
    choice (``date_order``) and the "Remove duplicate lines" switch; changing
    either reads the dataset on screen (``dataset``) again. ``page`` also makes
    the job's result key the page's own.
    """
    trigger = ctx.triggered_id
    name = (uploaded or {}).get("filename") or "upload"
    read = {
        "day_first": day_first_of(date_order),
        "drop_duplicates": remove_duplicates is not False,
    }
    chosen = chosen_mapping(choice_ids or [], choices or [])
    data = None
    try:
        if trigger == ids.MAPPING_APPLY and pending:
            name = pending["filename"]
            progress = progress_reporter(set_progress, name)
            dataset, status = apply_mapping(pending, chosen, progress, **read)
        elif trigger == ids.UPLOADED_STORE and uploaded:
            progress = progress_reporter(set_progress, name, uploaded.get("bytes"))
            progress("Taking the uploaded file", 0.0)
            data, meta = upload_route.staging().take(uploaded["upload"], page or "")
            name = meta["filename"]
            # the route hashed the bytes as they arrived: not hashed again
            dataset, status = ingest(data, name, progress, meta.get("sha256"), **read)
        elif trigger in READ_CONTROLS and dataset:
            name = dataset["filename"]
            progress = progress_reporter(set_progress, name)
            dataset, status = read_again(dataset, progress, **read)
            return dataset, None, False, status, no_update, no_update, no_update
        elif trigger == ids.VIEW_STORE and view and view.get("dataset"):
            name = view["dataset"]["filename"]
            progress = progress_reporter(set_progress, name)
            try:
                dataset, status = open_view(view, progress)
            except SegmentationError as err:
                if isinstance(err, ColumnMappingError):
                    raise
                sample = progress_reporter(set_progress, segmentation.SAMPLE_NAME)
                return load_sample(sample, read, f"{err} Showing the sample instead.")
        else:
            name = segmentation.SAMPLE_NAME
            progress = progress_reporter(set_progress, name)
            said = (view or {}).get("message") if trigger == ids.VIEW_STORE else None
            if said:
                said = f"{said} Showing the sample instead."
            return load_sample(progress, read, said)
    except ColumnMappingError as err:
        if trigger == ids.MAPPING_APPLY:
            return asked(err, pending, chosen)
        if trigger in READ_CONTROLS:
            sha = dataset["id"]
        elif data is not None:
            sha = storage.content_id(data)
        else:
            sha = view["dataset"]["id"]
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
            "uploaded": Input(ids.UPLOADED_STORE, "data"),
            "sample_clicks": Input(ids.SAMPLE_BUTTON, "n_clicks"),
            "apply_clicks": Input(ids.MAPPING_APPLY, "n_clicks"),
            "view": Input(ids.VIEW_STORE, "data"),
            "date_order": Input(ids.DATE_ORDER, "value"),
            "remove_duplicates": Input(ids.DUPLICATES_SWITCH, "value"),
        },
        state={
            "choices": State(ids.mapping_choice(ALL), "value"),
            "choice_ids": State(ids.mapping_choice(ALL), "id"),
            "pending": State(ids.PENDING_STORE, "data"),
            "dataset": State(ids.DATASET_STORE, "data"),
            "page": State(PAGE_TOKEN, "data"),
        },
        background=True,
        interval=250,
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
            # a "Saved run ..." / "Reopened ..." line belongs to the dataset it
            # was said of: another file (or the sample) clears it
            (Output(ids.RUN_SAVED, "children"), "", ""),
            (Output(ids.ERROR_ALERT, "is_open"), False, False),
        ],
        cancel=[Input(ids.CANCEL_BUTTON, "n_clicks")],
        prevent_initial_call=True,
    )(load_dataset)
    view_url.register_callbacks(app)
