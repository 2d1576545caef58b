"""Check and score new customers with a fitted segmentation.

A new customer is placed with the models fitted on the run's customers: the
value tier from the k-means pipeline, the R/F/M scores from the run's own
quintile steps (so the RF-grid segment means the same as in the run), and the
purchase style from the style model when the behaviour features are given.

:func:`validate_customers` is the one check of a new customer's fields: the JSON
API, the app's what-if panel and :func:`score` all call it, so a field is
accepted or refused, and the refusal worded, the same way everywhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import SegmentationError
from segmentation.features import rfm_segment

if TYPE_CHECKING:
    from segmentation.pipeline import Segmentation

#: Fields every new customer gives: recency_days (days since the last order),
#: frequency (orders) and monetary (total spent, the file's currency).
REQUIRED_FIELDS: tuple[str, ...] = schema.RFM_COLUMNS
#: Optional fields, given all together or not at all: with them the customer also
#: gets a purchase style (``schema.BEHAVIOUR_COLUMNS`` beyond the required ones).
BEHAVIOUR_FIELDS: tuple[str, ...] = tuple(
    c for c in schema.BEHAVIOUR_COLUMNS if c not in REQUIRED_FIELDS
)
#: Optional field for the lifetime models: with it (and a run that fitted them)
#: a customer also gets p_alive, expected orders, spend per order and CLV.
LIFETIME_FIELDS: tuple[str, ...] = (schema.TENURE_DAYS,)
#: Longest shown value in a message (a longer one is cut, ending in "...").
_SHOWN_CHARS = 60

_SCORE_OF = {
    schema.RECENCY_DAYS: schema.R_SCORE,
    schema.FREQUENCY: schema.F_SCORE,
    schema.MONETARY: schema.M_SCORE,
}
_SCORED_COLUMNS = (
    schema.VALUE_CLUSTER,
    schema.VALUE_TIER,
    schema.CUSTOMER_STATUS,
    schema.PERSONA,
    schema.R_SCORE,
    schema.F_SCORE,
    schema.M_SCORE,
    schema.RFM_SEGMENT,
)
_STYLE_COLUMNS = (schema.PURCHASE_STYLE, schema.STYLE_REASON)


def validate_customers(
    records: pd.DataFrame | Sequence[Mapping[str, object]],
    *,
    where: str | None = "customers",
    labels: Mapping[str, str] | None = None,
    text_numbers: bool = False,
) -> pd.DataFrame:
    """Check new customers' fields; return them as a float table.

    Every record gives recency_days (days), frequency (orders) and monetary
    (currency), and either all of :data:`BEHAVIOUR_FIELDS` or none of them;
    optionally ``tenure_days`` (:data:`LIFETIME_FIELDS`, >= recency_days). Each
    given field is a real number (booleans refused), finite and >= 0. Other
    keys (e.g. ``customer_id``) are ignored. Records are checked in order and the
    first problem is raised.

    Parameters
    ----------
    records : pandas.DataFrame of shape (n, m), or sequence of n mappings
        One customer per row or mapping (field -> value). In a DataFrame every
        row gives the table's columns, except that a row whose behaviour columns
        are all missing (NaN / None, as ``pandas.DataFrame.from_records`` stores
        a mixed batch) gives none of them.
    where : str or None, default "customers"
        The batch's name in messages: record ``i`` (0-based position) is
        ``f"{where}[{i}]"``, e.g. ``customers[3]: frequency must be >= 0, got -1``.
        ``None`` for one customer on its own (a request body, a form): messages
        then name the field only.
    labels : mapping of str to str, optional
        How messages name a field (e.g. ``{"recency_days": "recency (days)"}``);
        by default its own name.
    text_numbers : bool, default False
        Also accept text that parses as a number (``"12.5"``), as a form's input
        gives; otherwise text is refused like any other non-number.

    Returns
    -------
    pandas.DataFrame of shape (n, 3) or (n, 3 + len(BEHAVIOUR_FIELDS))
        float64 columns :data:`REQUIRED_FIELDS`, then :data:`BEHAVIOUR_FIELDS`
        when at least one record gives them (NaN in the rows of records that give
        none), then ``tenure_days`` likewise. Index as ``records`` for a
        DataFrame, else ``0..n-1``.

    Raises
    ------
    SegmentationError
        A record is not a mapping, lacks a required field, gives only some
        behaviour fields, or has a field that is not a number, not finite or
        negative. The message names the record and the field, e.g.
        ``customers[3]: frequency must be >= 0, got -1``; ``record`` (position,
        or None) and, for a bad value, ``field`` are kept as attributes.
    TypeError
        ``records`` is neither a DataFrame nor a sequence of records.
    ValueError
        ``where`` is None but there is more than one record.
    """
    if isinstance(records, pd.DataFrame):
        index = records.index
        rows = _frame_records(records)
    elif isinstance(records, Sequence) and not isinstance(records, str | bytes):
        index = pd.RangeIndex(len(records))
        rows = records
    else:
        raise TypeError(
            "records must be a DataFrame or a sequence of mappings, "
            f"got {type(records).__name__}"
        )
    if where is None and len(rows) > 1:
        raise ValueError(f"where=None names no record, but there are {len(rows)}")
    every = (*REQUIRED_FIELDS, *BEHAVIOUR_FIELDS, *LIFETIME_FIELDS)
    names = {f: f for f in every} | dict(labels or {})
    values = {f: np.full(len(rows), np.nan) for f in every}
    styled = False
    dated = False
    for i, record in enumerate(rows):
        position = None if where is None else i
        place = "the customer" if where is None else f"{where}[{i}]"
        prefix = "" if where is None else f"{place}: "

        def fail(message: str, **details: object) -> SegmentationError:
            return SegmentationError(prefix + message, record=position, **details)

        if not isinstance(record, Mapping):
            raise SegmentationError(
                f"{place} must be an object with the customer's fields, "
                f"got {_shown(record)}",
                record=position,
            )
        missing = [names[f] for f in REQUIRED_FIELDS if f not in record]
        if missing:
            raise fail(f"missing field(s): {', '.join(missing)}")
        given = [f for f in BEHAVIOUR_FIELDS if f in record]
        if given and len(given) < len(BEHAVIOUR_FIELDS):
            absent = [names[f] for f in BEHAVIOUR_FIELDS if f not in record]
            raise fail(
                f"give all behaviour fields or none; missing: {', '.join(absent)}"
            )
        for field in REQUIRED_FIELDS + (BEHAVIOUR_FIELDS if given else ()):
            value = record[field]
            number, rule = _as_number(value, text_numbers)
            if rule:
                raise fail(
                    f"{names[field]} must be {rule}, got {_shown(value)}", field=field
                )
            values[field][i] = number
        styled = styled or bool(given)
        dated = _check_tenure(record, i, values, names, text_numbers, fail) or dated
    columns = REQUIRED_FIELDS + (BEHAVIOUR_FIELDS if styled else ())
    columns += LIFETIME_FIELDS if dated else ()
    return pd.DataFrame({c: values[c] for c in columns}, index=index)


def _check_tenure(record, i, values, names, text_numbers, fail) -> bool:
    """Check an optional tenure_days (a number >= recency_days); True if given."""
    field = schema.TENURE_DAYS
    if field not in record:
        return False
    number, rule = _as_number(record[field], text_numbers)
    recency = values[schema.RECENCY_DAYS][i]
    if rule is None and number < recency:
        rule = f">= {names[schema.RECENCY_DAYS]} ({recency:g}: the first order "
        rule += "is not after the last)"
    if rule:
        raise fail(
            f"{names[field]} must be {rule}, got {_shown(record[field])}", field=field
        )
    values[field][i] = number
    return True


def _frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a customer table as records; all-missing behaviour means none."""
    columns = [c for c in (*REQUIRED_FIELDS, *BEHAVIOUR_FIELDS) if c in frame.columns]
    rows = frame[columns].to_dict(orient="records")
    if set(BEHAVIOUR_FIELDS) <= set(columns):
        none_given = frame[list(BEHAVIOUR_FIELDS)].isna().all(axis=1).to_numpy()
        for row in (r for r, drop in zip(rows, none_given, strict=True) if drop):
            for field in BEHAVIOUR_FIELDS:
                del row[field]
    for field in (f for f in LIFETIME_FIELDS if f in frame.columns):
        tenure = frame[field].to_numpy()
        for row, value in zip(rows, tenure, strict=True):
            if not pd.isna(value):
                row[field] = value
    return rows


def _as_number(value: object, text_numbers: bool) -> tuple[float, str | None]:
    """Return ``(value as float, None)``, or ``(nan, the rule it breaks)``."""
    if text_numbers and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return math.nan, "a number"
    elif isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return math.nan, "a number"
    else:
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range
            number = math.inf
    if not math.isfinite(number):
        return math.nan, "a finite number"
    if number < 0:
        return math.nan, ">= 0"
    return number, None


def _shown(value: object) -> str:
    """``repr`` of a value for a message (numpy scalars as Python's, long cut)."""
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def score_tables(features: pd.DataFrame) -> dict[str, pd.Series]:
    """Return, per RFM column, the run's step function ``value -> quintile score``.

    Parameters
    ----------
    features : pandas.DataFrame
        The run's customers: ``schema.RFM_COLUMNS`` and their r/f/m scores.

    Returns
    -------
    dict of str to pandas.Series
        For recency_days, frequency and monetary: the distinct training values
        (sorted index) and the score each got, for :func:`quintile_of`.
    """
    return {
        column: features.groupby(column)[score].first().sort_index()
        for column, score in _SCORE_OF.items()
    }


def quintile_of(values: pd.Series, table: pd.Series) -> np.ndarray:
    """Score values with a run's step function ``training value -> score``.

    Parameters
    ----------
    values : pandas.Series of shape (n,)
        New values of one of recency_days, frequency, monetary.
    table : pandas.Series
        Sorted training values (index) and the score each got.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        The score of the nearest training value at or below each value (the
        lowest training value's score below the range).
    """
    position = np.searchsorted(table.index.to_numpy(), values.to_numpy(), "right") - 1
    return table.to_numpy()[np.clip(position, 0, len(table) - 1)].astype("int64")


def _status_and_persona(
    segmentation: Segmentation, records: pd.DataFrame, clusters: np.ndarray
) -> dict[str, np.ndarray]:
    """Each new customer's status and persona (tier x status, as in the run).

    A new customer's own rhythm is unknown (only recency, frequency and
    monetary are given), so the run's usual gap for a single-order customer
    is used. A tier x status group the
    run did not have is named "<tier> · <status>". A run saved before statuses
    existed names personas per value tier and gives no status.
    """
    status_model = getattr(segmentation, "status_model", None)
    personas = segmentation.personas
    if status_model is None:  # an older run: one persona per value tier
        return {schema.PERSONA: personas[schema.PERSONA].to_numpy()[clusters]}
    # One order's worth of history: the run's usual gap, not the customer's own.
    inputs = records.assign(
        **{schema.FREQUENCY: 1.0, schema.TENURE_DAYS: records[schema.RECENCY_DAYS]}
    )
    status = status_model.predict(inputs).to_numpy()
    tiers = np.asarray(segmentation.value_model.tier_names_)[clusters]
    named = personas[schema.PERSONA].reindex(
        pd.MultiIndex.from_arrays([clusters, status])
    )
    generic = pd.Series([f"{t} · {s}" for t, s in zip(tiers, status, strict=True)])
    persona = named.reset_index(drop=True).fillna(generic).to_numpy()
    return {schema.CUSTOMER_STATUS: status, schema.PERSONA: persona}


def score(
    segmentation: Segmentation,
    records: pd.DataFrame | Sequence[Mapping[str, object]],
) -> pd.DataFrame:
    """Score new customers with a fitted segmentation's models.

    Parameters
    ----------
    segmentation : Segmentation
        A fitted run (:func:`segmentation.pipeline.segment`).
    records : pandas.DataFrame of shape (n, m), or sequence of n mappings
        Each customer's recency_days (days), frequency (orders) and monetary
        (currency), and all of :data:`BEHAVIOUR_FIELDS` or none; a batch may mix
        customers with and without them (see :func:`validate_customers`);
        optionally ``tenure_days`` (days since the first order, >=
        recency_days) for the lifetime columns.

    Returns
    -------
    pandas.DataFrame of shape (n, 8) or (n, 10)
        value_cluster, value_tier, status (Active / Cooling / Lapsed, against
        the run's usual gap for a one-order customer), persona (value tier x
        status), r_score, f_score,
        m_score, rfm_segment; plus purchase_style and style_reason when at least one
        customer gives the behaviour fields (missing, NaN, for a customer who
        gives none). Index as ``records`` for a DataFrame, else ``0..n-1``.
        When the run fitted the lifetime models, also its lifetime columns
        (``p_alive``, ``expected_orders_90d``, ``expected_spend_per_order``,
        ``clv_365d``, horizons as the run's), from the optional
        ``tenure_days``: NaN for a customer who does not give it, and for every
        customer when the run withheld them.

    Raises
    ------
    SegmentationError
        A field is missing, not a finite number, or negative, or a customer
        gives only some behaviour fields (messages as :func:`validate_customers`
        with ``where="customers"``).
    """
    records = validate_customers(records)
    if records.empty:
        return pd.DataFrame(columns=list(_SCORED_COLUMNS), index=records.index)
    clusters = segmentation.value_model.predict(records)
    scores = {
        _SCORE_OF[c]: quintile_of(records[c], segmentation.score_tables[c])
        for c in schema.RFM_COLUMNS
    }
    out = pd.DataFrame(
        {
            schema.VALUE_CLUSTER: clusters,
            schema.VALUE_TIER: np.asarray(segmentation.value_model.tier_names_)[
                clusters
            ],
            **_status_and_persona(segmentation, records, clusters),
            **scores,
        },
        index=records.index,
    )
    out[schema.RFM_SEGMENT] = rfm_segment(
        out[schema.R_SCORE], out[schema.F_SCORE]
    ).to_numpy()
    if BEHAVIOUR_FIELDS[0] in records.columns:
        styled = records[BEHAVIOUR_FIELDS[0]].notna().to_numpy()
        style = segmentation.style_model.predict(records.loc[styled])
        # by position: the caller's index may repeat labels
        style = style.set_axis(np.flatnonzero(styled)).reindex(range(len(out)))
        for column in _STYLE_COLUMNS:
            out[column] = style[column].set_axis(out.index)
    lifetime = getattr(segmentation, "lifetime", None)
    if lifetime is not None:
        scores = _lifetime_scores(lifetime, records)
        out = out.assign(**{c: scores[c].to_numpy() for c in scores.columns})
    return out


def _lifetime_scores(lifetime, records: pd.DataFrame) -> pd.DataFrame:
    """Return the run's lifetime columns for new customers (NaN without tenure).

    In the models' terms (days): ``x = frequency - 1`` repeat orders, ``t_x =
    tenure_days - recency_days``, ``T = tenure_days``; the mean order value
    ``monetary / frequency`` stands in for the mean of the repeat orders. A
    customer without tenure_days, or with fewer than one order, gets NaN.
    """
    frequency = records[schema.FREQUENCY]
    tenure = records.get(schema.TENURE_DAYS, pd.Series(np.nan, index=records.index))
    known = tenure.notna() & (frequency >= 1)
    summary = pd.DataFrame(
        {
            "x": np.floor(frequency.where(known, 1.0)) - 1,
            "t_x": (tenure - records[schema.RECENCY_DAYS]).where(known, 0.0),
            "T": tenure.where(known, 0.0),
            "m_x": records[schema.MONETARY] / frequency.where(frequency > 0),
        },
        index=records.index,
    )
    scores = lifetime.predict(summary)
    return scores.where(pd.DataFrame(dict.fromkeys(scores.columns, known)))
