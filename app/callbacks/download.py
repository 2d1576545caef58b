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
from app import ids, theme
from app.callbacks.common import current_prepared, current_segmentation
from app.selection import selection_mask


def _stem(dataset: dict) -> str:
    return Path(dataset.get("filename") or "dataset").stem


def download_customers(n_clicks, scope, dataset, k, percent, chosen):
    """Return the labelled CSV of all customers, or of the selection."""
    customers = current_segmentation(dataset, k, percent).customers
    mask = selection_mask(customers, chosen) if scope == "selection" else None
    if mask is not None:
        customers = customers[mask.to_numpy()].reset_index(drop=True)
    suffix = "selection" if mask is not None else "customers"
    return dcc.send_string(
        segmentation.customers_csv(customers), f"{_stem(dataset)}_k{k}_{suffix}.csv"
    )


def download_report(n_clicks, dataset, k, percent):
    """Return the run report (JSON) of the current dataset and k.

    Its ``stability`` is the command line's (``segment(..., with_stability=True)``):
    the mean adjusted Rand index of the value tiers of k fitted with seeds 0..4
    (:func:`segmentation.models.stability`), computed on the click (a few tenths
    of a second) as the panels' segmentation leaves it out.
    """
    prepared, shown = _reported_run(dataset, k, percent)
    report = segmentation.run_report(prepared, shown)
    return {
        "content": json.dumps(report, indent=2, default=str),
        "filename": f"{_stem(dataset)}_k{k}_run.json",
        "type": "application/json",
    }


def download_html_report(n_clicks, dataset, k, percent):
    """Return the printable HTML report of the current dataset and k.

    The same run as :func:`download_report` (stability included), drawn by
    :func:`segmentation.html_report.render_html_report` with the app's currency.
    Nothing is saved: a download never saves a run by itself.
    """
    from segmentation.html_report import render_html_report  # Jinja2: on demand

    prepared, shown = _reported_run(dataset, k, percent)
    page = render_html_report(prepared, shown, currency=theme.CURRENCY)
    return {
        "content": page,
        "filename": f"{_stem(dataset)}_k{k}_report.html",
        "type": "text/html",
    }


def _reported_run(dataset, k, percent):
    """Return the prepared data and the shown segmentation, with its stability."""
    from segmentation.models import stability  # scikit-learn: not at app import

    prepared = current_prepared(dataset)
    shown = current_segmentation(dataset, k, percent)
    if shown.stability is None:
        shown = replace(shown, stability=stability(prepared.features, shown.k))
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
        prevent_initial_call=True,
    )(download_html_report)
