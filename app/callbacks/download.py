"""Downloads: the labelled customer CSV (all or the selection) and the run reports.

The run report comes as JSON (to reproduce the run) and as a printable HTML page
(for people). None of them saves the run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from dash import Input, Output, State, dcc

import segmentation
from app import ids, storage, theme
from app.callbacks.common import (
    current_prepared,
    current_segmentation,
    dataset_id,
    method_of,
    read_settings,
)
from app.callbacks.overtime import over_time_customers
from app.components.controls import CURRENCY_STORE
from app.selection import selection_mask
from segmentation import settings


def _stem(dataset: dict) -> str:
    return Path(dataset.get("filename") or "dataset").stem


def _name(dataset: dict, k, what: str) -> str:
    """Return a download's file name: ``<file>_k4[_gmm]_<what>``.

    The method is named unless it is k-means (the names of before methods).
    """
    method = method_of(dataset)
    how = "" if method == settings.DEFAULT_METHOD else f"_{method}"
    return f"{_stem(dataset)}_k{k}{how}_{what}"


def download_customers(
    n_clicks, scope, dataset, k, percent, chosen, compare_days=None, holdout_days=None
):
    """Return the labelled CSV of all customers, or of the selection.

    Once the over-time job has stored its result for this view (its settings
    ``compare_days``, ``holdout_days``), the CSV has its columns too (p_alive,
    expected orders, spend per order, CLV, tier and status before;
    :func:`segmentation.customers_csv` writes those present).
    """
    customers = over_time_customers(dataset, k, percent, compare_days, holdout_days)
    if customers is None:
        customers = current_segmentation(dataset, k, percent).customers
    mask = selection_mask(customers, chosen) if scope == "selection" else None
    if mask is not None:
        customers = customers[mask.to_numpy()].reset_index(drop=True)
    suffix = "selection" if mask is not None else "customers"
    return dcc.send_string(
        segmentation.customers_csv(customers), _name(dataset, k, f"{suffix}.csv")
    )


def download_report(n_clicks, dataset, k, percent):
    """Return the run report (JSON) of the current dataset, k and method.

    The report names the method (``method``, ``method_fit``). Its
    ``stability`` is the command line's (``segment(..., with_stability=True)``)
    for that method: for k-means the mean adjusted Rand index of the value
    tiers of k fitted with seeds 0..4 (:func:`segmentation.models.stability`),
    for the others across subsamples
    (:func:`segmentation.models.subsample_stability`), computed on the click
    (a few tenths of a second) as the panels' segmentation leaves it out. Its
    ``method_comparison`` is the four methods at k, as the comparison panel
    shows them (cached; computed on the click when the panel's job has not
    run yet: a few seconds).
    """
    prepared, shown = _reported_run(dataset, k, percent)
    report = segmentation.run_report(prepared, shown)
    return {
        "content": json.dumps(report, indent=2, default=str),
        "filename": _name(dataset, k, "run.json"),
        "type": "application/json",
    }


def download_html_report(n_clicks, dataset, k, percent, currency=None):
    """Return the printable HTML report of the current dataset and k.

    The same run as :func:`download_report` (stability included), drawn by
    :func:`segmentation.html_report.render_html_report` with the page's
    currency (``currency``, the currency store; None: the server's default).
    Nothing is saved: a download never saves a run by itself.
    """
    from segmentation.html_report import render_html_report  # Jinja2: on demand

    prepared, shown = _reported_run(dataset, k, percent)
    page = render_html_report(prepared, shown, currency=theme.currency_symbol(currency))
    return {
        "content": page,
        "filename": _name(dataset, k, "report.html"),
        "type": "text/html",
    }


def _reported_run(dataset, k, percent):
    """Return the prepared data and the shown segmentation, with its stability.

    The stability is that of the shown method (k-means: across seeds; the
    others: across subsamples, as ``segment(..., with_stability=True)``
    measures it), and the method comparison at k is added
    (:meth:`app.storage.Store.comparison`).
    """
    # scikit-learn: not at app import
    from segmentation.models import stability, subsample_stability

    prepared = current_prepared(dataset)
    shown = current_segmentation(dataset, k, percent)
    method = getattr(shown, "method", settings.DEFAULT_METHOD)
    if shown.stability is None:
        if method == settings.DEFAULT_METHOD:
            measured = stability(prepared.features, shown.k)
        else:
            measured = subsample_stability(
                prepared.features,
                shown.value_model.labels_,
                shown.k,
                method,
                random_state=shown.seed,
            )
        shown = replace(shown, stability=measured)
    if getattr(shown, "method_comparison", None) is None:
        comparison = storage.get_store().comparison(
            dataset_id(dataset),
            int(k),
            dataset.get("mapping"),
            **read_settings(dataset),
        )
        shown = replace(shown, method_comparison=comparison)
    return prepared, shown


def register_callbacks(app) -> None:
    """Register the download callbacks on ``app``."""
    app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.DOWNLOAD_SCOPE, "value"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.SELECTION_STORE, "data"),
        State(ids.COMPARE_DAYS, "value"),
        State(ids.HOLDOUT_DAYS, "value"),
        prevent_initial_call=True,
    )(download_customers)
    app.callback(
        Output(ids.DOWNLOAD_REPORT, "data"),
        Input(ids.REPORT_BUTTON, "n_clicks"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        prevent_initial_call=True,
    )(download_report)
    app.callback(
        Output(ids.DOWNLOAD_HTML_REPORT, "data"),
        Input(ids.HTML_REPORT_BUTTON, "n_clicks"),
        State(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(CURRENCY_STORE, "data"),
        prevent_initial_call=True,
    )(download_html_report)
