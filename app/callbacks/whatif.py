"""What-if: a hypothetical customer scored with the current segmentation.

The inputs start at the dataset's medians. Valid values are scored with
:func:`segmentation.segmentation.score` (tier, persona, RFM segment) and their
(frequency, monetary) point goes to ``ids.WHATIF_STORE``, which the panels
callback draws as a star on the customer scatter.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import Input, Output, State, html, no_update

import segmentation
from app import ids
from app.callbacks.common import current_prepared, current_segmentation, dataset_id
from app.components.whatif import whatif_result
from segmentation import schema
from segmentation.errors import SegmentationError

#: Names of the three inputs in messages.
LABELS = {
    schema.RECENCY_DAYS: "recency (days)",
    schema.FREQUENCY: "frequency",
    schema.MONETARY: "monetary",
}


def median_defaults(dataset):
    """Return the dataset's median recency (days), frequency and monetary."""
    medians = current_prepared(dataset).features[list(schema.RFM_COLUMNS)].median()
    return (
        round(float(medians[schema.RECENCY_DAYS])),
        round(float(medians[schema.FREQUENCY]), 1),
        round(float(medians[schema.MONETARY]), 2),
    )


def parse_whatif(recency, frequency, monetary) -> dict | str:
    """Return ``{column: float}`` for valid inputs, else a short message.

    Valid means: all three given, finite numbers, each >= 0.
    """
    values = dict(zip(schema.RFM_COLUMNS, (recency, frequency, monetary), strict=True))
    parsed = {}
    for column, value in values.items():
        if value is None or value == "":
            return f"Enter a {LABELS[column]} (a number ≥ 0) to score the customer."
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"The {LABELS[column]} must be a number, not {value!r}."
        if not math.isfinite(number) or number < 0:
            return f"The {LABELS[column]} must be a number ≥ 0."
        parsed[column] = number
    return parsed


def score_whatif(recency, frequency, monetary, dataset, k, percent, shown):
    """Return the what-if answer in words and its point for the scatter.

    Invalid input gives a short message and no point, never an exception.
    """
    dataset_id(dataset)  # no dataset yet: nothing to score against
    no_point = None if shown else no_update
    parsed = parse_whatif(recency, frequency, monetary)
    if isinstance(parsed, str):
        return html.Div(parsed, className="text-danger"), no_point
    seg = current_segmentation(dataset, k, percent)
    try:
        scored = segmentation.score(seg, pd.DataFrame([parsed])).iloc[0].to_dict()
    except SegmentationError as err:
        return html.Div(str(err), className="text-danger"), no_point
    point = {"frequency": parsed[schema.FREQUENCY], "monetary": parsed[schema.MONETARY]}
    return (
        whatif_result(scored, *parsed.values()),
        no_update if point == shown else point,
    )


def register_callbacks(app) -> None:
    """Register the what-if callbacks on ``app``."""
    fields = [ids.WHATIF_RECENCY, ids.WHATIF_FREQUENCY, ids.WHATIF_MONETARY]
    app.callback(
        *[Output(field, "value") for field in fields],
        Input(ids.DATASET_STORE, "data"),
    )(median_defaults)
    app.callback(
        Output(ids.WHATIF_RESULT, "children"),
        Output(ids.WHATIF_STORE, "data"),
        *[Input(field, "value") for field in fields],
        Input(ids.DATASET_STORE, "data"),
        Input(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        State(ids.WHATIF_STORE, "data"),
    )(score_whatif)
