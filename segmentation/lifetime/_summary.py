"""Invoice lines -> one row per customer in the terms of the lifetime models.

The definitions of the literature (Fader, Hardie & Lee 2005; ``lifetimes``'
``summary_data_from_transaction_data``), with the engine's order key:

* an order is an invoice when the file has invoice numbers; without them, the
  orders of one customer on one calendar day count once (``invoice_date`` is
  then the only order key, and its time of day is not an order);
* ``x`` = repeat orders = orders - 1;
* ``t_x`` = days from the day of the first order to the day of the last;
* ``T`` = days from the day of the first order to ``end`` (the ``as_of`` date,
  or the end of a calibration period);
* ``m_x`` = mean value of the repeat orders (all orders but the first, by
  time), from the kept purchase lines' ``line_total``; returns are not
  attributed to orders, so this is spend before returns (NaN when ``x == 0``).

Time is in days (``TIME_UNIT``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation import schema

__all__ = ["TIME_UNIT", "order_summary", "orders_between"]

#: The time unit of t_x, T, the horizons and alpha.
TIME_UNIT = "days"


def _orders(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer, order): its first time, its day and value."""
    customer = lines[schema.CUSTOMER_ID].astype("str")
    if schema.INVOICE_ID in lines.columns:
        key = lines[schema.INVOICE_ID].astype("str")
    else:
        key = lines[schema.INVOICE_DATE].dt.normalize()
    grouped = lines.groupby([customer.rename("c"), key.rename("o")], sort=False)
    orders = grouped.agg(
        time=(schema.INVOICE_DATE, "min"), value=(schema.LINE_TOTAL, "sum")
    ).reset_index()
    return orders.assign(day=orders["time"].dt.normalize())


def order_summary(lines: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Return each customer's repeat orders, t_x, T and repeat-order mean value.

    Parameters
    ----------
    lines : pandas.DataFrame of shape (n_lines, n_columns)
        Kept purchase lines (``customer_id``, ``invoice_date``, ``line_total``,
        ``invoice_id`` when the file has it). Lines on or after ``end`` and
        without a customer id are left out. Not modified.
    end : pandas.Timestamp
        End of observation (midnight; the ``as_of`` date or a calibration end).

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id`` (str, sorted), every customer with an order
        before ``end``; columns ``x`` (int, repeat orders), ``t_x`` and ``T``
        (float, days), ``m_x`` (float, currency; NaN when x == 0), ``orders``
        (int).
    """
    lines = lines[
        lines[schema.CUSTOMER_ID].notna() & (lines[schema.INVOICE_DATE] < end)
    ]
    orders = _orders(lines).sort_values(["c", "time"], kind="stable")
    per = orders.groupby("c", sort=True).agg(
        orders=("value", "size"),
        total=("value", "sum"),
        first_value=("value", "first"),
        first_day=("day", "min"),
        last_day=("day", "max"),
    )
    x = per["orders"] - 1
    repeat_value = (per["total"] - per["first_value"]) / x.where(x > 0)
    summary = pd.DataFrame(
        {
            "x": x.astype("int64"),
            "t_x": (per["last_day"] - per["first_day"]).dt.days.astype(float),
            "T": (end - per["first_day"]).dt.days.astype(float),
            "m_x": repeat_value.astype(float),
            "orders": per["orders"].astype("int64"),
        },
        index=per.index.rename(schema.CUSTOMER_ID),
    )
    return summary


def orders_between(
    lines: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    """Return each customer's number of orders that start in ``[start, end)``.

    Orders as in :func:`order_summary` (an order spanning the boundary is
    placed by its first line's time). Index ``customer_id``; customers without
    such an order are absent.
    """
    lines = lines[lines[schema.CUSTOMER_ID].notna()]
    orders = _orders(lines)
    inside = orders[(orders["time"] >= start) & (orders["time"] < end)]
    counts = inside.groupby("c").size().astype(np.int64)
    return counts.rename_axis(schema.CUSTOMER_ID).rename("orders")
