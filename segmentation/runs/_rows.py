"""Rows of ``customer_segments`` from a run's labelled customers.

Private to :mod:`segmentation.runs`. Column for column what the labelled
customer CSV holds (:func:`segmentation.reports.customers_csv`), typed: the
horizon of ``expected_orders_<N>d`` and ``clv_<N>d`` moves into
``expected_orders_days`` and ``clv_days``.
"""

from __future__ import annotations

import re

import pandas as pd

from segmentation import schema

_HORIZON = re.compile(r"(expected_orders|clv)_(\d+)d")
_PLAIN_LIFETIME = (
    schema.P_ALIVE,
    schema.EXPECTED_SPEND_PER_ORDER,
    schema.VALUE_TIER_BEFORE,
    schema.STATUS_BEFORE,
)


def _column_values(values: pd.Series) -> list:
    """Return a column as Python values, missing ones None (NaN is not SQL)."""
    return values.astype(object).where(values.notna(), None).tolist()


def customer_rows(run_id: str, customers: pd.DataFrame) -> list[dict]:
    """Return one dict per customer for the ``customer_segments`` table.

    Parameters
    ----------
    run_id : str
        The run's id (the ``run_id`` of every row).
    customers : pandas.DataFrame
        ``Segmentation.customers``: ``schema.OUTPUT_COLUMNS`` and the lifetime
        and migration columns the run has.

    Returns
    -------
    list of dict
        Keys ``run_id``, the CSV's columns, ``expected_orders`` /
        ``expected_orders_days`` and ``clv`` / ``clv_days`` for the columns
        with a horizon; ``customer_id`` as text.

    Notes
    -----
    A run saved by an older engine may lack later columns (e.g.
    ``gross_monetary``, ``status``): they are None (NULL) in its rows.
    """
    n = len(customers)
    columns: dict[str, list] = {
        column: (
            _column_values(customers[column])
            if column in customers.columns
            else [None] * n
        )
        for column in schema.OUTPUT_COLUMNS
    }
    columns[schema.CUSTOMER_ID] = [str(c) for c in customers[schema.CUSTOMER_ID]]
    for column in customers.columns:
        if column in _PLAIN_LIFETIME:
            columns[column] = _column_values(customers[column])
        elif match := _HORIZON.fullmatch(str(column)):
            name, days = match.group(1), int(match.group(2))
            columns[name] = _column_values(customers[column])
            columns[f"{name}_days"] = [days] * n
    names = list(columns)
    return [
        {"run_id": run_id, **dict(zip(names, values, strict=True))}
        for values in zip(*columns.values(), strict=True)
    ]
