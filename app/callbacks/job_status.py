"""Name the file in the status when a loading job stops without an answer.

A background job that is cancelled (or whose worker dies) returns nothing; Dash
then sets the status to the ``running`` "off" value, a fixed text
(:data:`app.callbacks.upload.STOPPED`). Two small browser-side callbacks make it
say which file was being loaded: the first notes the file each job starts on
(upload, mapping, the dataset on screen read again with other settings, or the
sample at first load, as the job itself chooses); the
second replaces the fixed text with one naming that file, or, when the server
went away while the job ran and came back without it (a restart;
``assets/server_watch.js`` notes it and re-sends the page's requests once the
server answers), says that the restart lost the job. A finished job sets its
own status, which the second callback leaves alone.
"""

from __future__ import annotations

import json

from dash import Input, Output, State

import segmentation
from app import ids
from app.callbacks.upload import READ_CONTROLS, STOPPED

#: Said instead when the server went away while the job ran and came back
#: without it (a restart): ``assets/server_watch.js`` notes it.
RESTARTED_NAMED = (
    "The server restarted and the job loading {name} was lost: choose the file "
    "again. The panels still show the data loaded before."
)
#: "{name}" is replaced by the file's name.
STOPPED_NAMED = (
    "Loading {name} stopped before it finished (cancelled, or the "
    "worker died); the panels still show the data loaded before."
)

_JOB_NAME_JS = """
function(uploaded, sampleClicks, applyClicks, view, dates, dedupe, pending,
         dataset) {
    const trigger = dash_clientside.callback_context.triggered_id;
    if (trigger === %(uploaded)s) {
        return (uploaded && uploaded.filename) || "the upload";
    }
    if (trigger === %(apply)s) { return (pending && pending.filename) || "the file"; }
    if (%(read)s.includes(trigger) && dataset) { return dataset.filename; }
    if (trigger === %(view)s && view && view.dataset) { return view.dataset.filename; }
    return %(sample)s;
}
"""

_STOPPED_JS = """
function(result, name) {
    if (result !== %(stopped)s) { return dash_clientside.no_update; }
    const server = window.segmentationServer;
    const restarted = Boolean(server && server.lostJob);
    if (server) { server.lostJob = false; }
    if (!name && !restarted) { return dash_clientside.no_update; }
    const text = restarted ? %(restarted)s : %(named)s;
    return text.replace("{name}", name || "the file");
}
"""


def register_callbacks(app) -> None:
    """Register the two browser-side callbacks on ``app``."""
    app.clientside_callback(
        _JOB_NAME_JS
        % {
            "uploaded": json.dumps(ids.UPLOADED_STORE),
            "apply": json.dumps(ids.MAPPING_APPLY),
            "view": json.dumps(ids.VIEW_STORE),
            "read": json.dumps(list(READ_CONTROLS)),
            "sample": json.dumps(segmentation.SAMPLE_NAME),
        },
        Output(ids.JOB_STORE, "data"),
        Input(ids.UPLOADED_STORE, "data"),
        Input(ids.SAMPLE_BUTTON, "n_clicks"),
        Input(ids.MAPPING_APPLY, "n_clicks"),
        Input(ids.VIEW_STORE, "data"),
        Input(ids.DATE_ORDER, "value"),
        Input(ids.DUPLICATES_SWITCH, "value"),
        State(ids.PENDING_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
    )
    app.clientside_callback(
        _STOPPED_JS
        % {
            "stopped": json.dumps(STOPPED),
            "named": json.dumps(STOPPED_NAMED),
            "restarted": json.dumps(RESTARTED_NAMED),
        },
        Output(ids.RUN_RESULT, "children", allow_duplicate=True),
        Input(ids.RUN_RESULT, "children"),
        State(ids.JOB_STORE, "data"),
        prevent_initial_call=True,
    )
