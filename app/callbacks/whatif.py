"""What-if: a hypothetical customer scored with the current segmentation.

The inputs start at the dataset's medians, which are scored but not drawn: the
star appears on the customer scatter once the user types a value. Valid values
are scored with :func:`segmentation.score` (tier, persona, RFM segment); their
(frequency, monetary) point goes to ``ids.WHATIF_STORE`` and the star is moved
by a partial update of the scatter that touches only the star
(:func:`app.figures.scatter.whatif_patch`), so that a box or lasso the user
draws meanwhile survives. The panels callback reads the store (a State, not an
Input) to draw the star when it rebuilds the scatter for another k or dataset.
A k change does not move the star: the words follow k once the slider has
rested (:func:`whatif_words_at_k`), with no partial update of the scatter.
"""

from __future__ import annotations

import pandas as pd
from dash import Input, Output, State, ctx, html, no_update

import segmentation
from app import ids
from app.callbacks.common import current_prepared, current_segmentation, dataset_id
from app.components.controls import CURRENCY_STORE
from app.components.whatif import whatif_result
from app.figures.scatter import whatif_patch
from app.layout import K_SETTLED
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


def score_whatif(recency, frequency, monetary, dataset, k, percent, shown, drawn=True):
    """Return the what-if answer in words and its point for the scatter.

    Invalid input gives a short message and no point, never an exception.
    ``shown`` is the point on screen (``{"frequency", "monetary"}`` or None): an
    unchanged point is ``no_update``. ``drawn`` says whether the answer may
    speak of the star (False: it asks for a value to draw it).
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
        whatif_result(scored, *parsed.values(), drawn=drawn),
        no_update if point == shown else point,
    )


#: The three inputs' value props, as ``ctx.triggered_prop_ids`` names them.
_FIELD_PROPS = frozenset(
    f"{field}.value"
    for field in (ids.WHATIF_RECENCY, ids.WHATIF_FREQUENCY, ids.WHATIF_MONETARY)
)
_DATASET_PROP = f"{ids.DATASET_STORE}.data"


def update_whatif(
    recency, frequency, monetary, dataset, k, percent, shown, currency=None
):
    """Answer the what-if inputs: the words, the stored point and the star's patch.

    What triggered it decides whether the star is drawn:

    * a new dataset (its medians just filled in): no star, and the answer asks
      for a value;
    * a value typed in one of the three inputs: the star is drawn (or removed
      while an input is empty or invalid);
    * k or the sensitivity: the star stays as it is (none before anything was
      typed).

    Returns
    -------
    answer : list or html.Div
        As :func:`score_whatif`.
    point : dict, None or no_update
        For ``ids.WHATIF_STORE``: ``{"frequency", "monetary", "dataset"}`` (the
        dataset's id: the panels draw the star only on that dataset), None to
        remove the star, no_update when it does not move.
    star : dash.Patch or no_update
        For the scatter's figure: :func:`app.figures.scatter.whatif_patch`, which
        assigns the star's two annotations and nothing else; its hover says
        the amount in ``currency`` (the currency store).
    """
    triggered = set(ctx.triggered_prop_ids)
    new_data = _DATASET_PROP in triggered
    drawn = not new_data and (bool(triggered & _FIELD_PROPS) or bool(shown))
    on_screen = _xy(shown) if drawn else None
    answer, point = score_whatif(
        recency, frequency, monetary, dataset, k, percent, on_screen, drawn
    )
    if not drawn:
        point = None if shown else no_update
    elif isinstance(point, dict):
        point = {**point, "dataset": dataset_id(dataset)}
    star = no_update if point is no_update else whatif_patch(point, currency)
    return answer, point, star


def whatif_words_at_k(k, recency, frequency, monetary, dataset, percent, shown):
    """Return the what-if's words at a new k (the star stays where it is).

    ``k`` is the slider's value once it has rested (:data:`app.layout.K_SETTLED`);
    the star speaks of itself when one is shown (``shown``, the stored point).
    Not scored without a dataset (``no_update``).
    """
    if not dataset or not dataset.get("id"):
        return no_update
    on_screen = _xy(shown)
    answer, _point = score_whatif(
        recency, frequency, monetary, dataset, k, percent, on_screen, bool(shown)
    )
    return answer


def star_for(stored: dict | None, dataset: dict | None) -> dict | None:
    """Return the stored what-if point if it belongs to ``dataset``, else None.

    For the panels callback, which reads ``ids.WHATIF_STORE`` when it rebuilds
    the scatter: after a new dataset the store may still hold the old point
    for a moment (its removal is on its way), and that star must not be drawn.
    A point without a ``dataset`` key is drawn.
    """
    if not stored or not dataset:
        return None
    mine = stored.get("dataset", dataset.get("id")) == dataset.get("id")
    return stored if mine else None


def _xy(point: dict | None) -> dict | None:
    """Return ``{"frequency", "monetary"}`` of a stored point (None stays None)."""
    if not point:
        return None
    return {"frequency": point["frequency"], "monetary": point["monetary"]}


def register_callbacks(app) -> None:
    """Register the what-if callbacks on ``app``."""
    fields = [ids.WHATIF_RECENCY, ids.WHATIF_FREQUENCY, ids.WHATIF_MONETARY]
    # not at page load: a page served with the sample has its medians in the
    # layout already (app.first_screen), and filling them again at load would
    # count as typing and draw the star
    app.callback(
        *[Output(field, "value") for field in fields],
        Input(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )(median_defaults)
    app.callback(
        Output(ids.WHATIF_RESULT, "children"),
        Output(ids.WHATIF_STORE, "data"),
        Output(ids.CUSTOMER_SCATTER, "figure", allow_duplicate=True),
        *[Input(field, "value") for field in fields],
        Input(ids.DATASET_STORE, "data"),
        State(ids.K_SLIDER, "value"),
        Input(ids.ANOMALY_SLIDER, "value"),
        State(ids.WHATIF_STORE, "data"),
        State(CURRENCY_STORE, "data"),
        prevent_initial_call=True,
    )(update_whatif)
    # a k change moves no star, it changes only the words (the tier and
    # persona at the new k): once the slider has rested, without the scatter
    app.callback(
        Output(ids.WHATIF_RESULT, "children", allow_duplicate=True),
        Input(K_SETTLED, "data"),
        *[State(field, "value") for field in fields],
        State(ids.DATASET_STORE, "data"),
        State(ids.ANOMALY_SLIDER, "value"),
        State(ids.WHATIF_STORE, "data"),
        prevent_initial_call=True,
    )(whatif_words_at_k)
