"""What-if: a hypothetical customer scored with the current segmentation.

The inputs start at the dataset's medians. Valid values are scored with
:func:`segmentation.score` (tier, persona, RFM segment) and their
(frequency, monetary) point goes to ``ids.WHATIF_STORE``, which the panels
callback draws as a star on the customer scatter.
"""

from __future__ import annotations

import pandas as pd
from dash import Input, Output, State, html, no_update

import segmentation
from app import ids
from app.callbacks.common import current_prepared, current_segmentation, dataset_id
from app.components.whatif import whatif_result
from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.scoring import validate_customers

#: Names of the three inputs in messages (the validator's ``labels``).
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
    """Return the inputs as ``{column: float}`` if they are valid, else the message.

    Parameters
    ----------
    recency, frequency, monetary : int, float, str or None
        The three inputs' values (days, orders, the file's currency), as
        ``dcc.Input`` gives them: a number, text, or None / "" when left empty.

    Returns
    -------
    dict of str to float or str
        ``schema.RFM_COLUMNS`` -> value; or, when an input is empty, a prompt
        for it; when one is not a number (text that parses as one is fine),
        not finite or negative, the message of
        :func:`segmentation.scoring.validate_customers` naming the input by its
        label (e.g. ``frequency must be >= 0, got -2``).
    """
    values = zip(schema.RFM_COLUMNS, (recency, frequency, monetary), strict=True)
    given = {c: v for c, v in values if not (v is None or str(v).strip() == "")}
    empty = [c for c in schema.RFM_COLUMNS if c not in given]
    if empty:  # a field being typed in: ask for it rather than report an error
        return f"Enter a {LABELS[empty[0]]} (a number ≥ 0) to score the customer."
    try:
        checked = validate_customers(
            [given], where=None, labels=LABELS, text_numbers=True
        )
    except SegmentationError as err:
        return str(err)
    return {c: float(checked.iloc[0][c]) for c in schema.RFM_COLUMNS}


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
