"""The "Method" choice: which clustering the panels show, and the four compared.

The method travels in the dataset store (``method``), so that every callback
that reads the segmentation on screen (:func:`app.callbacks.common.
current_segmentation`: panels, selection table, what-if, downloads, saved runs,
the every-k warm-up) follows it without another input. :func:`follow_method`
keeps the store and the radio buttons in step:

* choosing a method sets the store's ``method``;
* a dataset store that names its method (a reopened saved run) sets the
  buttons;
* a new dataset (an upload, the sample, new read settings: no ``method``) is
  shown with the method chosen, so a choice lasts as k does.

The comparison of the four methods at the chosen k (seconds: every method is
refitted on subsamples) is a background job that starts once the every-k
warm-up has ended, off the first panels' path, and is cached in the store.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from app import ids, storage
from app.callbacks.common import (
    current_segmentation,
    dataset_id,
    method_of,
    read_settings,
)
from app.components.methods import (
    COMPARISON_REQUEST,
    COMPARISON_STORE,
    K_LABEL,
    METHOD_CHOICE,
    METHOD_COMPARISON,
    METHOD_HELP,
    METHOD_HELP_TEXT,
    METHOD_K,
    METHOD_RULE,
    METHOD_STATUS,
    USE_RECOMMENDED_METHOD,
    comparison_table,
    hdbscan_note,
    k_label,
    method_label,
)
from app.layout import K_SETTLED, PAGE_TOKEN
from segmentation import settings
from segmentation.errors import SegmentationError

#: What the comparison's heading says while the job runs.
COMPARING = "comparing the four methods at this k (a few seconds)…"


def with_method(dataset: dict, method: str) -> dict:
    """Return the dataset store showing ``method`` (a new dict; keys kept in order)."""
    return {**dataset, "method": method}


def follow_method(method, dataset):
    """Keep the dataset store's method and the "Method" buttons in step.

    Returns
    -------
    dataset : dict or dash.no_update
        The store with the chosen method, when it shows another one.
    method : str or dash.no_update
        The buttons' value, when a dataset store names its own method.
    """
    if not dataset or not dataset.get("id"):
        raise PreventUpdate
    method = method or settings.DEFAULT_METHOD
    if method not in settings.METHODS:
        raise PreventUpdate
    trigger = ctx.triggered_id
    if trigger == ids.DATASET_STORE and "method" in dataset:
        shown = dataset["method"]
        return no_update, (shown if shown != method else no_update)
    if method_of(dataset) == method and (
        "method" in dataset or method == settings.DEFAULT_METHOD
    ):
        return no_update, no_update
    return with_method(dataset, method), no_update


def method_help(method, dataset, k, percent, hdbscan_k=None):
    """Return the method's help line and the k slider's label.

    For HDBSCAN on screen the help line also says what it made of k: the
    smallest group it kept, the tiers found and the Unclustered customers
    (:func:`app.components.methods.hdbscan_note`). ``k`` is the rested k (a
    State); ``hdbscan_k`` (``METHOD_K``, the same k, set in the browser only
    while HDBSCAN is the method) is what a k change triggers.
    """
    method = method or settings.DEFAULT_METHOD
    help_text = [METHOD_HELP_TEXT.get(method, "")]
    if method == "hdbscan" and dataset and method_of(dataset) == "hdbscan":
        try:
            seg = current_segmentation(dataset, k, percent)
        except SegmentationError:
            seg = None
        if seg is not None:
            model = seg.value_model
            help_text.append(
                html.Div(
                    hdbscan_note(model.fit_info_, model.n_tiers_), className="mt-1"
                )
            )
    return help_text, k_label(method)


def compare_at_k(warm, k, dataset, page=None, compute=True):
    """Return the four methods compared at k, as a table (computed if ``compute``).

    Run in a background job (:func:`compare_requested`) when the store does
    not hold the comparison yet: :func:`compare_now` answers at once from the
    cache (:meth:`app.storage.Store.comparison`, per dataset and k) and asks
    for the job only on a miss. Both follow the end of the every-k warm-up
    (``warm``) and a k change once the slider has rested
    (:data:`app.layout.K_SETTLED`). ``page`` (the page token) keeps the
    job's result key the page's own.

    Returns
    -------
    table : dash component
        :func:`app.components.methods.comparison_table`, or why there is none.
    rule : str
        "Recommended: <method>, by <the rule>".
    store : dict or None
        ``{"dataset", "k", "recommended"}`` for the "Use recommended method"
        button.
    None
        Instead of the three, with ``compute=False`` when the comparison is not
        cached.
    """
    if not dataset or not dataset.get("id") or k is None:
        raise PreventUpdate
    try:
        comparison = storage.get_store().comparison(
            dataset_id(dataset),
            int(k),
            dataset.get("mapping"),
            compute=compute,
            **read_settings(dataset),
        )
    except SegmentationError as err:
        return f"The methods could not be compared at k = {k}: {err}", "", None
    if comparison is None:
        return None
    answer = comparison.to_dict()
    rule = (
        f"Recommended at k = {k}: {method_label(answer['recommended'])}, by the "
        f"{answer['rule']}."
    )
    store = {
        "dataset": dataset["id"],
        "k": int(k),
        "recommended": answer["recommended"],
    }
    return comparison_table(answer, method_of(dataset)), rule, store


def compare_now(warm, k, dataset):
    """Answer a k or warm-up change from the cache, or ask for the job.

    A background job costs a worker process and at least one poll (about a
    second under load) even when its answer is cached, so a view seen before
    is answered in this ordinary callback.

    Returns
    -------
    tuple
        ``(table, rule, store, request)``: the comparison and no request when
        cached; else the table left as it is (it names its k), the store
        emptied (the button is disabled) and ``request`` (``{"warm", "k",
        "dataset"}``, for ``COMPARISON_REQUEST``) starts
        :func:`compare_requested`.
    """
    answer = compare_at_k(warm, k, dataset, compute=False)
    if answer is None:
        request = {"warm": warm, "k": int(k), "dataset": dataset}
        # the store emptied: "Use recommended method" is disabled meanwhile
        return no_update, no_update, None, request
    return (*answer, no_update)


def compare_requested(request, page=None):
    """Background job: :func:`compare_at_k` of a ``COMPARISON_REQUEST``."""
    if not request:
        raise PreventUpdate
    return compare_at_k(request["warm"], request["k"], request["dataset"], page)


def recommended_method_button(store, method, dataset, k):
    """Return the "Use recommended method" label and whether it is disabled.

    Disabled until the comparison at this dataset and k has arrived, and while
    the recommended method is the one chosen.
    """
    fresh = (
        store
        and dataset
        and store.get("dataset") == dataset.get("id")
        and store.get("k") == k
    )
    if not fresh:
        return "Use recommended method", True
    recommended = store["recommended"]
    label = f"Use recommended method: {method_label(recommended)}"
    return label, (method or settings.DEFAULT_METHOD) == recommended


def use_recommended_method(n_clicks, store):
    """On "Use recommended method", choose the comparison's recommended method."""
    if not n_clicks or not store or not store.get("recommended"):
        raise PreventUpdate
    return store["recommended"]


def register_callbacks(app) -> None:
    """Register the method callbacks on ``app``."""
    app.callback(
        Output(ids.DATASET_STORE, "data", allow_duplicate=True),
        Output(METHOD_CHOICE, "value"),
        Input(METHOD_CHOICE, "value"),
        Input(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )(follow_method)
    # the help line follows k only for HDBSCAN (assets/k_gates.js passes the
    # rested k on to METHOD_K while it is the method): no request per k change
    # for the other methods
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="hdbscanK"),
        Output(METHOD_K, "data"),
        Input(K_SETTLED, "data"),
        Input(METHOD_CHOICE, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(METHOD_HELP, "children"),
        Output(K_LABEL, "children"),
        Input(METHOD_CHOICE, "value"),
        Input(ids.DATASET_STORE, "data"),
        State(K_SETTLED, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        Input(METHOD_K, "data"),
        prevent_initial_call=True,
    )(method_help)
    app.callback(
        Output(METHOD_COMPARISON, "children"),
        Output(METHOD_RULE, "children"),
        Output(COMPARISON_STORE, "data"),
        Output(COMPARISON_REQUEST, "data"),
        Input(ids.WARM_STORE, "data"),
        Input(K_SETTLED, "data"),
        State(ids.DATASET_STORE, "data"),
    )(compare_now)
    app.callback(
        Output(METHOD_COMPARISON, "children", allow_duplicate=True),
        Output(METHOD_RULE, "children", allow_duplicate=True),
        Output(COMPARISON_STORE, "data", allow_duplicate=True),
        Input(COMPARISON_REQUEST, "data"),
        State(PAGE_TOKEN, "data"),
        background=True,
        running=[(Output(METHOD_STATUS, "children"), COMPARING, "")],
        prevent_initial_call=True,
    )(compare_requested)
    # k is a State: a k change reaches the button through the comparison
    # store (set for the new k, or emptied while its comparison is computed)
    app.callback(
        Output(USE_RECOMMENDED_METHOD, "children"),
        Output(USE_RECOMMENDED_METHOD, "disabled"),
        Input(COMPARISON_STORE, "data"),
        Input(METHOD_CHOICE, "value"),
        State(ids.DATASET_STORE, "data"),
        State(K_SETTLED, "data"),
    )(recommended_method_button)
    app.callback(
        Output(METHOD_CHOICE, "value", allow_duplicate=True),
        Input(USE_RECOMMENDED_METHOD, "n_clicks"),
        State(COMPARISON_STORE, "data"),
        prevent_initial_call=True,
    )(use_recommended_method)
