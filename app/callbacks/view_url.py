"""The view in the page's address: a reload or a copied link reopens it.

The address carries ``?view=<token>&k=<k>&method=<method>&sel=<selection>``:

- ``view`` is a link token, not the dataset id. The dataset id is the sha256 of
  the file's bytes, and the sha256 of a public file (a published export) can be
  computed by anyone; the token is an HMAC of the dataset and the browser's
  random id (an ``HttpOnly`` cookie, :mod:`app.upload_route`) under a secret
  kept in the store (:meth:`app.storage.Store.mint_view`). A link opens its
  dataset only in a browser that had that dataset on screen (it uploaded the
  same file, or made the link): another browser is told that the link opens
  only where the file was loaded, and sees the sample. The built-in sample's
  links open anywhere. Where requests have owners (accounts, or anonymous
  browsers' private workspaces, :mod:`app.ownership`) the workspace decides
  instead of the browser: a link opens wherever its user is logged in, and
  never in another user's or another anonymous browser's workspace, even in
  the browser where it was made (a shared computer). A token that is no
  longer in the store (evicted) is said to be so, and the sample is shown.
- ``k`` is the k slider's value; ``method`` the value tiers' method (one of
  ``segmentation.settings.METHODS``; left out for k-means, the default; the
  link token never depends on it); ``sel`` the cross-filter selection as JSON
  (a cell, an R x F cell, a tier, or a scatter box; left out when it would make
  the address longer than :data:`MAX_SELECTION_CHARS`, e.g. a lasso of
  thousands of customers).

At page load a browser-side callback reads the address (``ids.URL_QUERY``),
the server checks it against the browser's cookie (:func:`resolve_view`,
``ids.VIEW_STORE``), the loading job opens the dataset
(:func:`app.callbacks.upload.load_dataset`), the k slider and the "Method"
buttons are set (the dataset is then shown with that method,
:mod:`app.callbacks.methods`), and once the panels show that dataset at that k
and method, the selection. Afterwards every change of
dataset, k or selection rewrites the address in place (``history.replaceState``:
no new history entry, no reload).
"""

from __future__ import annotations

import functools
import json

from dash import Input, Output, State, no_update

from app import auth, ids, ownership, storage, upload_route
from app.components.controls import K_MAX, K_MIN
from app.components.methods import METHOD_CHOICE
from app.layout import PAGE_TOKEN
from segmentation import settings
from segmentation.errors import SegmentationError

#: The selection goes into the address only up to this many characters.
MAX_SELECTION_CHARS = 1500

_READ_QUERY_JS = """
function(token) {
    const query = new URLSearchParams(window.location.search);
    const found = {};
    for (const key of ["view", "k", "method", "sel"]) {
        if (query.has(key)) { found[key] = query.get(key); }
    }
    return found;
}
"""

_K_FROM_VIEW_JS = """
function(view) {
    if (!view || !view.dataset || !view.k) { return dash_clientside.no_update; }
    return view.k;
}
"""

_METHOD_FROM_VIEW_JS = """
function(view) {
    if (!view || !view.dataset || !view.method) { return dash_clientside.no_update; }
    return view.method;
}
"""

_SELECTION_FROM_VIEW_JS = """
function(summary, view, dataset, k) {
    const skip = dash_clientside.no_update;
    window.segmentationView = window.segmentationView || {};
    const state = window.segmentationView;
    if (!view || !view.sel || !view.dataset || state.selectionRestored) {
        return skip;
    }
    if (!dataset || dataset.id !== view.dataset.id || k !== view.k) { return skip; }
    if ((dataset.method || "kmeans") !== (view.method || "kmeans")) { return skip; }
    state.selectionRestored = true;
    return view.sel;
}
"""

_WRITE_ADDRESS_JS = """
function(link, k, selection, dataset) {
    if (!link) { return; }
    const query = new URLSearchParams();
    query.set("view", link);
    if (k !== null && k !== undefined) { query.set("k", String(k)); }
    const method = dataset && dataset.method;
    if (method && method !== "kmeans") { query.set("method", method); }
    if (selection) {
        const text = JSON.stringify(selection);
        if (text.length <= %(max_sel)d) { query.set("sel", text); }
    }
    const search = "?" + query.toString();
    if (window.location.search !== search) {
        window.history.replaceState(window.history.state, "",
                                    window.location.pathname + search);
    }
}
"""


def _k_of(text) -> int | None:
    """Return the address's ``k`` when it is a whole number the slider offers."""
    try:
        k = int(str(text))
    except (TypeError, ValueError):
        return None
    return k if K_MIN <= k <= K_MAX else None


def _method_of(text) -> str | None:
    """Return the address's ``method`` when it is one the app offers, else None."""
    return str(text) if str(text) in settings.METHODS else None


def _selection_of(text):
    """Return the address's ``sel`` as a selection dict, or None when unusable."""
    if not text or len(str(text)) > MAX_SELECTION_CHARS:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


def resolve_view(query: dict | None, dataset: dict | None = None):
    """Check the page address's view against the browser's cookie.

    Parameters
    ----------
    query : dict or None
        ``{"view", "k", "method", "sel"}`` as strings, those the address has.

    dataset : dict or None
        The page's dataset store: the page may come with the sample already
        prepared.

    Returns
    -------
    dict or dash.no_update
        ``{"dataset", "k", "method", "sel", "message"}``: ``dataset`` is the
        dataset
        store to open (None: the sample); ``message`` says why the address's
        dataset is not opened (None when it is, or when there was none).
        ``no_update`` when the address names nothing and the page already
        shows a dataset: no job is started.
    """
    query = query or {}
    token = query.get("view")
    view = {"dataset": None, "k": None, "method": None, "sel": None, "message": None}
    if not token:
        return no_update if dataset else view
    mine = auth.workspace()
    owns = None if mine is None else functools.partial(ownership.owns, workspace=mine)
    try:
        dataset = storage.get_store().open_view(
            token, upload_route.browser_id(), owns=owns
        )
    except SegmentationError as err:
        return {**view, "message": str(err)}
    return {
        **view,
        "dataset": dataset,
        "k": _k_of(query.get("k")),
        "method": _method_of(query.get("method")),
        "sel": _selection_of(query.get("sel")),
    }


def link_for(dataset: dict | None) -> str | None:
    """Return the link token of the dataset on screen, for this browser.

    None when there is no dataset or the request has no browser cookie (then
    the address is left as it is). The token stands for the dataset whatever
    method shows it: the method is the address's own ``method``.
    """
    browser = upload_route.browser_id()
    if not dataset or not dataset.get("id") or browser is None:
        return None
    public = dataset["id"] == ownership.sample_id()
    shown = {key: value for key, value in dataset.items() if key != "method"}
    return storage.get_store().mint_view(shown, browser, public=public)


def mint_link(dataset: dict | None):
    """Return (callback) the link token for ``ids.VIEW_LINK`` (:func:`link_for`)."""
    return link_for(dataset) or no_update


def register_callbacks(app) -> None:
    """Register the address's callbacks on ``app``."""
    app.clientside_callback(
        _READ_QUERY_JS, Output(ids.URL_QUERY, "data"), Input(PAGE_TOKEN, "data")
    )
    app.callback(
        Output(ids.VIEW_STORE, "data"),
        Input(ids.URL_QUERY, "data"),
        State(ids.DATASET_STORE, "data"),
    )(resolve_view)
    app.clientside_callback(
        _K_FROM_VIEW_JS,
        Output(ids.K_SLIDER, "value", allow_duplicate=True),
        Input(ids.VIEW_STORE, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.VIEW_LINK, "data"),
        Input(ids.DATASET_STORE, "data"),
    )(mint_link)
    app.clientside_callback(
        _METHOD_FROM_VIEW_JS,
        Output(METHOD_CHOICE, "value", allow_duplicate=True),
        Input(ids.VIEW_STORE, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        _SELECTION_FROM_VIEW_JS,
        Output(ids.SELECTION_STORE, "data", allow_duplicate=True),
        Input(ids.SELECTION_SUMMARY, "children"),
        State(ids.VIEW_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        _WRITE_ADDRESS_JS % {"max_sel": MAX_SELECTION_CHARS},
        Input(ids.VIEW_LINK, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.SELECTION_STORE, "data"),
        Input(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )
