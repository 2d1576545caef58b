"""One row per customer: RFM and behaviour features (DESIGN section 5).

>>> kept, returns, report = clean_transactions(lines)            # doctest: +SKIP
>>> features = customer_features(kept, returns)                 # doctest: +SKIP
>>> features.loc["12347", ["recency_days", "frequency", "monetary"]]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import ColumnMappingError, EmptyResultError, SegmentationError

#: Score levels of the R, F and M quintile scores (1 = worst, 5 = best).
SCORE_LEVELS = 5

#: RFM segment names, from the best customers to the least engaged.
RFM_SEGMENT_NAMES: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential Loyalists",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
)


def _grid() -> dict[tuple[int, int], str]:
    rows = {  # R score -> names for F = 1, 2, 3, 4, 5 (DESIGN section 5)
        5: ("New", *["Potential Loyalists"] * 2, *["Champions"] * 2),
        4: ("Promising", *["Potential Loyalists"] * 2, *["Loyal"] * 2),
        3: (*["About to Sleep"] * 2, "Need Attention", *["Loyal"] * 2),
        2: (*["Hibernating"] * 2, *["At Risk"] * 2, "Can't Lose"),
        1: (*["Hibernating"] * 2, *["At Risk"] * 2, "Can't Lose"),
    }
    return {(r, f): names[f - 1] for r, names in rows.items() for f in range(1, 6)}


#: The R x F grid: ``(r_score, f_score) -> segment name``, all 25 cells. Champions
#: R5/F4-5, Loyal R3-4/F4-5, Potential Loyalists R4-5/F2-3, New R5/F1, Promising
#: R4/F1, Need Attention R3/F3, About to Sleep R3/F1-2, At Risk R1-2/F3-4,
#: Can't Lose R1-2/F5, Hibernating R1-2/F1-2.
RF_SEGMENTS: dict[tuple[int, int], str] = _grid()
_GRID_NAMES = np.array([RF_SEGMENTS[r, f] for r in range(1, 6) for f in range(1, 6)])


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Return 1..5 quintile scores that are robust to ties (5 = best).

    The rule: ``score = 1 + floor(5 * b / n)``, where ``b`` is the number of the
    ``n`` customers whose value is strictly worse. So a score of 3 means that at
    least 40 % (and under 60 %) of customers do worse. Without ties this is the
    exact quintile; equal values always get equal scores (every customer of a
    tied block gets the score of its first member), scores are monotone in the
    value, and the worst value always scores 1: with heavy ties at the bottom,
    e.g. the 35 % one-time buyers of Online Retail I, one-timers get F = 1 and
    the other levels stay in use (2 orders F2, 3 orders F3, 4-5 F4, 6+ F5), which
    a mid-rank percentile would not give (it leaves F2 empty). If every value is
    equal, every score is 1.

    Parameters
    ----------
    values : pandas.Series of shape (n_customers,)
        Numbers, none missing.
    higher_is_better : bool, default True
        False for recency (fewer days since the last purchase is better).

    Returns
    -------
    pandas.Series of shape (n_customers,)
        int8 scores in 1..5, index of ``values``.

    Raises
    ------
    ValueError
        ``values`` has missing values.
    """
    if values.isna().any():
        raise ValueError(f"{values.name}: cannot score missing values")
    n = len(values)
    worse = values.rank(method="min", ascending=higher_is_better).to_numpy() - 1
    score = 1 + (SCORE_LEVELS * worse.astype(np.int64)) // max(n, 1)
    return pd.Series(score.astype(np.int8), index=values.index, name=values.name)


def rfm_segment(r_score, f_score) -> pd.Series:
    """Return the RFM segment name of each (R, F) pair, by :data:`RF_SEGMENTS`.

    Parameters
    ----------
    r_score, f_score : array-like of shape (n_customers,)
        Integer scores 1..5 (a pandas Series keeps its index).

    Returns
    -------
    pandas.Series of shape (n_customers,)
        Segment names (str), named ``rfm_segment``, index of ``r_score`` when it
        is a Series.

    Raises
    ------
    SegmentationError
        A score is missing, not an integer or outside 1..5 (the message shows it).
    """
    index = r_score.index if isinstance(r_score, pd.Series) else None
    if len(r_score) != len(f_score):
        raise ValueError(f"{len(r_score)} R scores but {len(f_score)} F scores")
    codes = []
    for name, score in (("r_score", r_score), ("f_score", f_score)):
        numbers = pd.to_numeric(pd.Series(score), errors="coerce").to_numpy(float)
        bad = ~np.isin(numbers, np.arange(1, SCORE_LEVELS + 1))
        if bad.any():
            shown = pd.Series(score).to_numpy(object)[bad][0]
            raise SegmentationError(f"{name} must be an integer 1..5, got {shown!r}")
        codes.append(numbers.astype(np.int64) - 1)
    names = _GRID_NAMES[codes[0] * SCORE_LEVELS + codes[1]]
    return pd.Series(names, index=index, name=schema.RFM_SEGMENT, dtype="str")


def reference_date(
    dates: pd.Series, as_of: pd.Timestamp | str | None = None
) -> pd.Timestamp:
    """Return the ``as_of`` date recency and tenure are counted to (midnight).

    Parameters
    ----------
    dates : pandas.Series of datetime64
        Purchase dates (``invoice_date`` of the kept lines), not all missing.
    as_of : Timestamp or str, optional
        The analyst's date. Default: the calendar day after the last purchase, so
        the most recent buyers have ``recency_days == 1``. Normalised to
        midnight; a day equal to the last purchase's day is allowed (recency 0).

    Returns
    -------
    pandas.Timestamp
        Midnight, in the time zone of ``dates`` (naive when they are).

    Raises
    ------
    SegmentationError
        ``as_of`` is not a date, or falls before the day of the last purchase
        (the message names both dates).
    """
    last = dates.max()
    if as_of is None:
        return last.normalize() + pd.Timedelta(days=1)
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise SegmentationError(f"as_of {as_of!r} is not a date") from exc
    if pd.isna(stamp):
        raise SegmentationError(f"as_of {as_of!r} is not a date")
    if last.tz is None and stamp.tz is not None:
        stamp = stamp.tz_localize(None)
    elif last.tz is not None and stamp.tz is None:
        stamp = stamp.tz_localize(last.tz)
    stamp = stamp.normalize()
    if stamp < last.normalize():
        raise SegmentationError(
            f"as_of {stamp.date()} is before the last purchase in the data "
            f"({last.date()}); choose {last.date()} or later",
            as_of=str(stamp.date()),
            last_purchase=str(last.date()),
        )
    return stamp


def _check_lines(lines: pd.DataFrame, what: str, needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in lines.columns]
    if missing:
        raise ColumnMappingError(
            f"cannot build customer features: {what} lack column(s) "
            f"{', '.join(missing)} (columns present: "
            f"{', '.join(map(str, lines.columns))}); clean them with "
            "clean_transactions first",
            headers=[str(c) for c in lines.columns],
            missing=missing,
        )


def _days(as_of: pd.Timestamp, dates: pd.Series) -> pd.Series:
    return (as_of - dates.dt.normalize()).dt.days.astype("int64")


def customer_features(
    lines: pd.DataFrame,
    returns: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Return one row per customer: RFM, behaviour, scores and RFM segment.

    Parameters
    ----------
    lines : pandas.DataFrame of shape (n_lines, n_columns)
        Kept purchase lines from :func:`segmentation.cleaning.clean_transactions`:
        ``customer_id``, ``invoice_date``, ``line_total`` (> 0); ``quantity``,
        ``invoice_id`` (else ``invoice_date`` is the order key) and
        ``stock_code`` when the file has them. Not modified.
    returns : pandas.DataFrame, optional
        Return lines (``customer_id``, ``line_total`` as a positive value, and
        optionally ``returned_purchase``), the second value of
        ``clean_transactions``. None: nothing was returned.
    as_of : Timestamp or str, optional
        Reference date, see :func:`reference_date` (default: the day after the
        last purchase).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 18)
        Index ``customer_id`` (str, sorted): every customer with a kept purchase.
        Columns ``schema.FEATURE_COLUMNS`` (DESIGN section 5):

        - ``recency_days`` (int): days from the day of the last purchase to
          ``as_of`` (marketing RFM recency); >= 1 with the default ``as_of``;
        - ``frequency`` (int): distinct invoices with a kept purchase;
        - ``monetary`` (float, currency): net spend, ``gross_monetary -
          returned_value``, not below 0;
        - ``gross_monetary`` (float, currency): value of the kept purchases, plus
          lines bought and returned at once (a status saying returned);
        - ``returned_value`` (float, currency): value of the customer's returns;
        - ``tenure_days`` (int): days from the day of the first purchase;
        - ``avg_order_value`` = monetary / frequency;
        - ``avg_items_per_order`` = total units / frequency;
        - ``avg_line_quantity``, ``max_line_quantity``: units per line (these
          three are NaN when the file has no quantity column);
        - ``distinct_products`` (int): distinct stock codes; all NaN (float)
          when the file has no stock codes;
        - ``return_rate`` = returned_value / gross_monetary, in [0, 1] (1 when a
          customer returned more than the file shows them buying);
        - ``largest_order_ratio`` = the largest order's value / the median
          order's value (>= 1; 1 for one order);
        - ``order_value_cv`` = standard deviation / mean of the order values
          (sample standard deviation; 0 for one order);
        - ``r_score``, ``f_score``, ``m_score`` (int8, 1..5, 5 = best): see
          :func:`quintile_score` (m on the net monetary);
        - ``rfm_segment`` (str): the R x F grid :data:`RF_SEGMENTS`.

    Raises
    ------
    ColumnMappingError
        A needed column is missing (the message lists those present).
    EmptyResultError
        ``lines`` has no line with a customer id.
    SegmentationError
        ``as_of`` is not a date or is before the last purchase.

    Notes
    -----
    One vectorised groupby with named aggregations; about 0.1 s for the
    ~391,000 kept lines and 4,334 customers of Online Retail I.
    """
    needed = (schema.CUSTOMER_ID, schema.INVOICE_DATE, schema.LINE_TOTAL)
    _check_lines(lines, "the lines", needed)
    lines = lines[lines[schema.CUSTOMER_ID].notna()]
    if lines.empty:
        raise EmptyResultError("no purchase line with a customer id to build features")
    as_of = reference_date(lines[schema.INVOICE_DATE], as_of)
    has_invoice = schema.INVOICE_ID in lines.columns
    order_key = schema.INVOICE_ID if has_invoice else schema.INVOICE_DATE
    aggregations = {
        "first_purchase": (schema.INVOICE_DATE, "min"),
        "last_purchase": (schema.INVOICE_DATE, "max"),
        schema.FREQUENCY: (order_key, "nunique"),
        "bought": (schema.LINE_TOTAL, "sum"),
    }
    has_quantity = schema.QUANTITY in lines.columns
    if has_quantity:
        aggregations |= {
            "total_quantity": (schema.QUANTITY, "sum"),
            schema.AVG_LINE_QUANTITY: (schema.QUANTITY, "mean"),
            schema.MAX_LINE_QUANTITY: (schema.QUANTITY, "max"),
        }
    if schema.STOCK_CODE in lines.columns:
        aggregations[schema.DISTINCT_PRODUCTS] = (schema.STOCK_CODE, "nunique")
    customer = lines[schema.CUSTOMER_ID].astype("str")
    per = lines.groupby(customer, sort=True).agg(**aggregations)
    empty = {schema.DISTINCT_PRODUCTS: np.nan}
    if not has_quantity:
        empty |= dict.fromkeys((*schema.QUANTITY_FEATURES, "total_quantity"), np.nan)
    per = per.assign(**{c: v for c, v in empty.items() if c not in per.columns})
    orders = _order_shape(lines, customer, order_key)
    returned, bought_back = _returned(per.index, returns)
    gross = per["bought"] + bought_back
    monetary = (gross - returned).clip(lower=0.0)
    frequency = per[schema.FREQUENCY].astype("int64")
    features = per.assign(
        **{
            schema.RECENCY_DAYS: _days(as_of, per["last_purchase"]),
            schema.FREQUENCY: frequency,
            schema.MONETARY: monetary,
            schema.GROSS_MONETARY: gross,
            schema.RETURNED_VALUE: returned,
            schema.TENURE_DAYS: _days(as_of, per["first_purchase"]),
            schema.AVG_ORDER_VALUE: monetary / frequency,
            schema.AVG_ITEMS_PER_ORDER: per["total_quantity"] / frequency,
            schema.RETURN_RATE: (returned / gross.where(gross > 0))
            .fillna(0.0)
            .clip(0.0, 1.0),
            schema.LARGEST_ORDER_RATIO: orders[schema.LARGEST_ORDER_RATIO],
            schema.ORDER_VALUE_CV: orders[schema.ORDER_VALUE_CV],
        }
    )
    features = features.assign(
        **{
            schema.R_SCORE: quintile_score(
                features[schema.RECENCY_DAYS], higher_is_better=False
            ),
            schema.F_SCORE: quintile_score(features[schema.FREQUENCY]),
            schema.M_SCORE: quintile_score(features[schema.MONETARY]),
        }
    )
    segment = rfm_segment(features[schema.R_SCORE], features[schema.F_SCORE])
    features = features.assign(**{schema.RFM_SEGMENT: segment})
    return features[list(schema.FEATURE_COLUMNS)].rename_axis(schema.CUSTOMER_ID)


def _order_shape(
    lines: pd.DataFrame, customer: pd.Series, order_key: str
) -> pd.DataFrame:
    """Per customer: largest order / median order, and the orders' spread.

    Both are scale-free (multiplying every amount by 10 changes neither), so
    they describe how irregular a customer's buying is, not how big it is.
    """
    order_value = (
        lines[schema.LINE_TOTAL].groupby([customer, lines[order_key]], sort=False).sum()
    )
    per = order_value.groupby(level=0).agg(["max", "median", "mean", "std"])
    spread = (per["std"] / per["mean"]).fillna(0.0)  # std of one order: NaN -> 0
    return pd.DataFrame(
        {
            schema.LARGEST_ORDER_RATIO: per["max"] / per["median"],
            schema.ORDER_VALUE_CV: spread,
        }
    )


def _returned(
    customers: pd.Index, returns: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """Per customer: value returned, and the part bought and returned at once."""
    zero = pd.Series(0.0, index=customers)
    if returns is None:
        return zero, zero
    _check_lines(returns, "the returns", (schema.CUSTOMER_ID, schema.LINE_TOTAL))
    value = returns[schema.LINE_TOTAL].abs()
    who = returns[schema.CUSTOMER_ID].astype("str")
    returned = value.groupby(who).sum().reindex(customers, fill_value=0.0)
    if schema.RETURNED_PURCHASE in returns.columns:
        at_once = value.where(returns[schema.RETURNED_PURCHASE].astype(bool), 0.0)
    else:
        at_once = value * 0.0
    bought_back = at_once.groupby(who).sum().reindex(customers, fill_value=0.0)
    return returned.astype("float64"), bought_back.astype("float64")
