"""Customers over time: a background job after the first panels, then its panel.

DESIGN section 10. The job (:func:`over_time_job`) prepares the dataset on
screen again with the lifetime models and the features N days earlier
(``segmentation.prepare(..., lifetime=..., compare_days=N)``), segments it at
the page's k, and keeps the result in the server's store
(:meth:`app.storage.Store.over_time`). It starts once the every-k warm-up job
has answered for the dataset on screen (``ids.WARM_STORE``), so nothing is
added to the first panels' path, and again on a new k or a change of its two
settings; it takes the page's token, so its result reaches only the page that
started it. Its answer, for ``ids.OVERTIME_STORE``, is small: what is ready.

The panel (:func:`render_over_time`) is drawn from the stored result by a plain
callback, with the selection: the tier table gets a "Selection" row and each
Sankey link its selected part. A click on a Sankey link or node selects its
customers (:func:`select_moved`; the ``"moved"`` kind of :mod:`app.selection`).
While the store does not hold the view on screen, the panel says what is coming.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from app import figures, ids, storage
from app.callbacks.common import anomaly_share, dataset_id, read_settings
from app.components.overtime import (
    COMING,
    model_in_words,
    moves_in_words,
    tier_table,
)
from app.figures._base import tier_colours
from app.figures.holdout import holdout_figure
from app.figures.sankey import clicked, migration_sankey, sankey_layout
from app.layout import K_SETTLED, PAGE_TOKEN
from app.selection import MOVED, selection_mask
from segmentation import schema
from segmentation.settings import DEFAULT_METHOD


def days_of(compare_days, holdout_days) -> tuple[int, int | None]:
    """Return the two settings as numbers: compare days (>= 1), holdout (None = 0)."""
    compare = int(compare_days or 0)
    if compare < 1:
        raise ValueError(f"compare days must be >= 1, got {compare_days!r}")
    holdout = int(holdout_days or 0)
    return compare, holdout or None


def view_key(dataset, k, percent, compare_days, holdout_days, method=None) -> dict:
    """Return what an over-time result is of, as ``ids.OVERTIME_STORE`` holds it."""
    compare, holdout = days_of(compare_days, holdout_days)
    return {
        "dataset": dataset,
        "k": int(k),
        "anomaly_share": anomaly_share(percent),
        "compare_days": compare,
        "holdout_days": holdout,
        "method": method or (dataset or {}).get("method") or DEFAULT_METHOD,
    }


def _stored(key: dict, compute: bool):
    dataset = key["dataset"]
    return storage.get_store().over_time(
        dataset_id(dataset),
        key["k"],
        key["anomaly_share"],
        mapping=dataset.get("mapping"),
        compare_days=key["compare_days"],
        holdout_days=key["holdout_days"],
        method=key["method"],
        compute=compute,
        **read_settings(dataset),
    )


def warmed(warm, dataset, percent) -> bool:
    """Whether the every-k warm-up has answered for this dataset and sensitivity."""
    return bool(
        dataset
        and dataset.get("id")
        and warm
        and warm.get("id") == dataset["id"]
        and warm.get("anomaly_share") == anomaly_share(percent)
    )


def over_time_job(
    warm, k, compare_days, holdout_days, dataset, percent, page=None, method=None
):
    """Background job: the over-time result of the view on screen, stored.

    Parameters
    ----------
    warm : dict or None
        ``ids.WARM_STORE``: the job waits until it holds this dataset and
        sensitivity (the first panels are drawn and every k segmented).
    k, percent : int, float
        The k slider and the sensitivity slider.
    compare_days, holdout_days : int or str
        The panel's settings ("Compare with N days earlier", "Holdout days").
    dataset : dict
        ``ids.DATASET_STORE``.
    page : str, optional
        The page's token (unused): it keeps the job's result key the page's own.
    method : str, optional
        The value-tier method (default k-means, as the panels').

    Returns
    -------
    dict or None
        :func:`view_key` with ``columns`` (the lifetime columns with numbers,
        and the earlier tier and status), or None while waiting.
    """
    if not warmed(warm, dataset, percent):
        return None  # the first panels (and the k warm-up) come first
    key = view_key(dataset, k, percent, compare_days, holdout_days, method)
    return _answer(key, _stored(key, compute=True))


def _answer(key: dict, seg) -> dict:
    """Return what ``ids.OVERTIME_STORE`` holds for a stored over-time result."""
    columns = [schema.VALUE_TIER_BEFORE, schema.STATUS_BEFORE]
    if seg.lifetime is not None and seg.lifetime.withheld is None:
        columns = [*seg.lifetime.settings.columns, *columns]
    return {**key, "columns": columns}


def over_time_now(warm, k, compare_days, holdout_days, dataset, percent):
    """Answer a view from the store at once, or ask for the job.

    A background job costs a worker process and at least one poll (about a
    second under load) even when its result is stored, so a view computed
    before (another k seen earlier, another page on the same file) is answered
    by this ordinary callback. Waits, as the job does, for the every-k warm-up
    of the dataset and sensitivity on screen.

    Returns
    -------
    tuple
        ``(store, request, *panel)``: with the result stored, the store's
        value (:func:`over_time_job`'s answer), no request and the panel left
        to :func:`render_over_time`; else no store change, a request for
        ``ids.OVERTIME_REQUEST`` (the job's arguments) and the panel saying what
        is coming (:func:`waiting`).
    """
    if k is None or not warmed(warm, dataset, percent):
        return (no_update,) * (2 + len(waiting()))
    key = view_key(dataset, k, percent, compare_days, holdout_days)
    seg = _stored(key, compute=False)
    if seg is not None:
        return (_answer(key, seg), no_update, *(no_update,) * len(waiting()))
    request = {
        "warm": warm,
        "k": int(k),
        "compare_days": compare_days,
        "holdout_days": holdout_days,
        "dataset": dataset,
        "percent": percent,
    }
    return (no_update, request, *waiting())


def over_time_requested(request, page=None):
    """Background job: :func:`over_time_job` of an ``ids.OVERTIME_REQUEST``."""
    if not request:
        return no_update
    return over_time_job(page=page, **request)


def ready(overtime, dataset, k, percent, compare_days=None, holdout_days=None):
    """Return the over-time store if it holds this view (else None).

    ``compare_days`` and ``holdout_days`` are checked when given.
    """
    if not overtime or not dataset or k is None:
        return None
    same = (
        overtime.get("dataset") == dataset
        and overtime.get("k") == int(k)
        and overtime.get("anomaly_share") == anomaly_share(percent)
    )
    if same and compare_days is not None:
        same = (overtime["compare_days"], overtime["holdout_days"]) == days_of(
            compare_days, holdout_days
        )
    return overtime if same else None


def over_time_segmentation(overtime, dataset, k, percent):
    """Return the stored over-time Segmentation of the view on screen, or None."""
    key = ready(overtime, dataset, k, percent)
    return None if key is None else _stored(key, compute=False)


def over_time_customers(dataset, k, percent, compare_days, holdout_days):
    """Return the customers with the lifetime and migration columns, or None.

    For the selected-customers table and the CSV download: the stored result
    of the over-time job for this dataset, k, sensitivity and settings, None
    while there is none. Read from the server's store, not from
    ``ids.OVERTIME_STORE``: a callback with that store as an input or state
    waits for the whole warm-up and over-time chain after a new dataset.
    """
    if not dataset or not dataset.get("id") or k is None or not compare_days:
        return None
    key = view_key(dataset, k, percent, compare_days, holdout_days)
    seg = _stored(key, compute=False)
    return None if seg is None else seg.customers


def _tiers(customers):
    return figures.tier_order(customers), tier_colours(customers)


def selected_moves(customers, mask) -> dict | None:
    """Return ``{(value_tier_before, value_tier): selected customers}`` or None."""
    if mask is None:
        return None
    rows = customers[mask.to_numpy()]
    pairs = rows.groupby(
        [schema.VALUE_TIER_BEFORE, schema.VALUE_TIER], observed=True
    ).size()
    return {(str(a), str(b)): int(n) for (a, b), n in pairs.items()}


def waiting():
    """Return the panel while the job has not answered for the view on screen."""
    blank = figures.placeholder(COMING)
    return COMING, [], [], blank, {"display": "none"}, blank, []


def over_time_coming(dataset, percent):
    """On a new dataset or sensitivity: say the panel is coming.

    A callback of its own with no input downstream of a job, so Dash runs it
    at once (:func:`render_over_time` waits for the job's answer, and the
    panel would show the previous view meanwhile).
    """
    return waiting()


def render_over_time(
    overtime, chosen, dataset, k, percent, compare_days, holdout_days, currency=None
):
    """Return the panel: status, models in words, tier table, holdout, Sankey, words.

    Returns
    -------
    tuple
        ``(status, model, tiers, holdout figure, holdout graph style, Sankey
        figure, moves in words)``. While the store does not hold this view the
        status says what is coming and the rest is empty (:func:`waiting`).
    """
    key = ready(overtime, dataset, k, percent, compare_days, holdout_days)
    seg = None if key is None else _stored(key, compute=False)
    if seg is None:
        return waiting()
    customers = seg.customers
    mask = selection_mask(customers, chosen)
    tiers, colours = _tiers(customers)
    report = seg.lifetime.report if seg.lifetime is not None else None
    table = (
        tier_table(customers, seg.lifetime.settings.columns, tiers, mask)
        if seg.lifetime is not None
        else []
    )
    holdout = holdout_figure(report.get("holdout") if report else None)
    migration = seg.migration.report
    sankey = migration_sankey(
        migration, tiers, colours, selected_moves(customers, mask), currency
    )
    status = (
        f"k = {seg.k}, compared with {migration['compared_as_of']} "
        f"({migration['days']} days before {migration['as_of']})."
    )
    return (
        status,
        model_in_words(report),
        table,
        holdout,
        _holdout_style(report),
        sankey,
        moves_in_words(migration),
    )


def _holdout_style(report: dict | None) -> dict:
    """Return the holdout graph's style: hidden without a check, short if withheld."""
    holdout = (report or {}).get("holdout")
    if holdout is None:
        return {"display": "none"}
    return {"height": "120px" if holdout.get("withheld") else "300px"}


def select_moved(click, overtime, dataset, k, percent, chosen):
    """On a Sankey click, select the customers of the link (or node) clicked.

    Returns
    -------
    dict
        ``{"moved": {"from", "to", "days", "ids"}}`` (:mod:`app.selection`);
        ``no_update`` when the click is not on this view's Sankey.
    """
    if not click or not click.get("points"):
        return no_update
    seg = over_time_segmentation(overtime, dataset, k, percent)
    if seg is None:
        return no_update
    customers = seg.customers
    tiers, _ = _tiers(customers)
    selected = selected_moves(customers, selection_mask(customers, chosen))
    layout = sankey_layout(seg.migration.report["moves"], tiers, selected)
    pair = clicked(click["points"][0], layout)
    if pair is None:
        return no_update
    before, now = pair
    keep = customers[schema.CUSTOMER_ID].notna()
    if before is not None:
        keep &= customers[schema.VALUE_TIER_BEFORE].astype(str) == before
    if now is not None:
        keep &= customers[schema.VALUE_TIER].astype(str) == now
    chosen_ids = customers.loc[keep, schema.CUSTOMER_ID].astype(str).tolist()
    return {
        MOVED: {
            "from": before,
            "to": now,
            "days": int(seg.migration.days),
            "ids": chosen_ids,
        }
    }


def register_callbacks(app) -> None:
    """Register the over-time job, its panel and the Sankey's selection."""
    panel = [
        Output(ids.OVERTIME_STATUS, "children"),
        Output(ids.LIFETIME_MODEL, "children"),
        Output(ids.LIFETIME_TIERS, "children"),
        Output(ids.HOLDOUT_GRAPH, "figure"),
        Output(ids.HOLDOUT_GRAPH, "style"),
        Output(ids.MIGRATION_SANKEY, "figure"),
        Output(ids.MIGRATION_TEXT, "children"),
    ]
    again = [
        Output(o.component_id, o.component_property, allow_duplicate=True)
        for o in panel
    ]
    # k is followed once the slider has rested: the panel is below the first
    # panels, and each k seen is answered from the store without a job
    app.callback(
        Output(ids.OVERTIME_STORE, "data", allow_duplicate=True),
        Output(ids.OVERTIME_REQUEST, "data"),
        *again,
        Input(ids.WARM_STORE, "data"),
        Input(K_SETTLED, "data"),
        Input(ids.COMPARE_DAYS, "value"),
        Input(ids.HOLDOUT_DAYS, "value"),
        State(ids.DATASET_STORE, "data"),
        State(ids.ANOMALY_SLIDER, "value"),
        prevent_initial_call="initial_duplicate",
    )(over_time_now)
    app.callback(
        Output(ids.OVERTIME_STORE, "data"),
        Input(ids.OVERTIME_REQUEST, "data"),
        State(PAGE_TOKEN, "data"),
        background=True,
        interval=500,
        prevent_initial_call=True,
    )(over_time_requested)
    app.callback(
        *panel,
        Input(ids.OVERTIME_STORE, "data"),
        Input(ids.SELECTION_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.COMPARE_DAYS, "value"),
        State(ids.HOLDOUT_DAYS, "value"),
    )(render_over_time)
    # a new dataset or sensitivity waits for its warm-up: say so at once
    app.callback(
        *again,
        Input(ids.DATASET_STORE, "data"),
        Input(ids.ANOMALY_SLIDER, "value"),
        prevent_initial_call=True,
    )(over_time_coming)
    app.callback(
        Output(ids.SELECTION_STORE, "data", allow_duplicate=True),
        Input(ids.MIGRATION_SANKEY, "clickData"),
        State(ids.OVERTIME_STORE, "data"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.SELECTION_STORE, "data"),
        prevent_initial_call=True,
    )(select_moved)
