"""What a run hands back: the labelled customer CSV, the run report, summaries.

Both files are written the same way by the command line and the app, so a
download and a CLI run on the same file and settings give the same bytes.
:func:`run_summary` is what the JSON API serves for a saved run, and
:func:`json_scalar` is the one rule for turning a table cell into JSON.
"""

from __future__ import annotations

import math
import platform
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation import schema

if TYPE_CHECKING:
    from segmentation.results import PreparedData, Segmentation

#: A text cell starting with one of these is run as a formula by spreadsheets
#: (OWASP "CSV injection"); such cells are prefixed with a single quote. The
#: full-width forms (U+FF1D ＝, U+FF0B ＋, U+FF0D －, U+FF20 ＠) count too: some
#: spreadsheets fold them to ASCII when they read a cell.
FORMULA_PREFIXES: tuple[str, ...] = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)
_VERSIONED = ("pandas", "numpy", "scikit-learn", "kneed")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table. Numeric columns are left untouched.

    Returns
    -------
    pandas.DataFrame
        Same shape; in text columns, a cell starting with ``= + - @``, their
        full-width forms ``＝ ＋ － ＠``, tab or carriage return gets a leading
        ``'`` (e.g. ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``).
    """
    escaped = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False)
        if risky.any():
            escaped[column] = text.mask(risky, "'" + text)
    return frame.assign(**escaped)


def customers_csv(customers: pd.DataFrame) -> str:
    """Return the labelled customer CSV (DESIGN section 8) as text.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``Segmentation.customers`` or a subset of its rows.

    Returns
    -------
    str
        UTF-8 text, header ``schema.OUTPUT_COLUMNS`` then the lifetime and
        migration columns the run has (``p_alive``, ``expected_orders_90d``,
        ``expected_spend_per_order``, ``clv_365d``, ...), one row per customer:
        money (``schema.MONEY_COLUMNS``) with two decimals, other numbers with
        up to 6 decimals, never in scientific notation; missing values empty;
        ids as the text the file had; formula-like cells escaped.
    """
    extra = [c for c in customers.columns if schema.is_lifetime_column(str(c))]
    table = escape_formulas(customers.loc[:, [*schema.OUTPUT_COLUMNS, *extra]])
    return _written_numbers(table).to_csv(index=False, lineterminator="\n")


def _written_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """Float columns as text: money to the cent, others to 6 decimals, positional."""
    written = {}
    for column in table.columns:
        values = table[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        if schema.is_money_column(column):
            text = values.map(lambda v: f"{v:.2f}")
        else:
            text = values.map(lambda v: f"{v:.6f}".rstrip("0").rstrip("."))
        written[column] = text.where(values.notna(), "")
    return table.assign(**written)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def grid_summary(customers: pd.DataFrame) -> pd.DataFrame:
    """Summarise each value tier × style cell: customers, revenue, label.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``Segmentation.customers``.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty cell: value_cluster, value_tier, purchase_style,
        grid_label, customers, revenue_share (0..1), median recency_days,
        frequency, monetary.
    """
    keys = [schema.VALUE_CLUSTER, schema.VALUE_TIER, schema.PURCHASE_STYLE]
    return group_profile(customers, keys, schema.GRID_LABEL).reset_index()


def group_profile(
    customers: pd.DataFrame, keys: str | list[str], label: str
) -> pd.DataFrame:
    """Size, revenue share and median RFM of each group of customers.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``Segmentation.customers``.
    keys : str or list of str
        The column(s) to group by (e.g. value_cluster).
    label : str
        A column constant within a group, kept as its first value per group.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``, one row per non-empty group: ``label``, customers,
        median_recency_days (days), median_frequency (orders), median_monetary
        (currency) and revenue_share (group monetary / total monetary, 0..1; 0
        when the total is 0).
    """
    total = customers[schema.MONETARY].sum()
    table = customers.groupby(keys, observed=True).agg(
        **{label: (label, "first")},
        customers=(schema.CUSTOMER_ID, "size"),
        revenue=(schema.MONETARY, "sum"),
        median_recency_days=(schema.RECENCY_DAYS, "median"),
        median_frequency=(schema.FREQUENCY, "median"),
        median_monetary=(schema.MONETARY, "median"),
    )
    table = table.assign(revenue_share=table["revenue"] / total if total else 0.0)
    return table.drop(columns="revenue")


def run_report(prepared: PreparedData, segmentation: Segmentation) -> dict:
    """Return the JSON-ready run report: enough to reproduce the run.

    The clustering of the value tiers is named by ``method`` ("kmeans", "gmm",
    "ward" or "hdbscan"); ``method_fit`` says what its fit decided (the
    clustering kept, a fallback included; the seed; the tiers found; Ward's
    sample; HDBSCAN's group sizes and Unclustered customers; how a new customer
    is scored); ``method_comparison`` holds the four methods compared for this k
    (:meth:`segmentation.models.MethodComparison.to_dict`), or None when the run
    did not compare them.

    Parameters
    ----------
    prepared : PreparedData
    segmentation : Segmentation

    Returns
    -------
    dict
        Keys ``input`` (file, sha256, format, sheets, notes, and ``read``: the
        reading settings day_first, drop_duplicates and columns), ``mapping``,
        ``cleaning`` (the CleaningReport), ``as_of``, ``settings`` (k, seed,
        anomaly_share), ``diagnostics``, ``stability``, ``customers``,
        ``value_clusters`` (one row per value tier), ``personas`` (one row per
        value tier x status group), ``grid``, ``versions``; ``lifetime``
        (the lifetime models' report, see :func:`segmentation.lifetime.fit_lifetime`)
        when the run fitted them; ``migration`` (tiers and statuses at
        ``as_of - N days`` and the moves, see
        :func:`segmentation.migration.migrate`) when the run compared dates.
    """
    diagnostics = None
    if prepared.diagnostics is not None:
        sweep = prepared.diagnostics
        diagnostics = {
            "table": sweep.table.reset_index().to_dict(orient="records"),
            "recommended_k": int(sweep.recommended_k),
            "rule": sweep.rule,
            "votes": dict(getattr(sweep, "votes", {}) or {}),
        }
    return {
        "input": {
            "file": prepared.source_name,
            "sha256": prepared.sha256,
            "format": prepared.file_format,
            "sheets_read": prepared.sheets_read,
            "sheets_skipped": prepared.sheets_skipped,
            "notes": prepared.notes,
            "read": prepared.read_settings,
        },
        "mapping": prepared.mapping,
        "cleaning": prepared.report.to_dict(),
        "as_of": prepared.as_of.date().isoformat(),
        **_method_report(segmentation),
        "settings": {
            "k": segmentation.k,
            "seed": segmentation.seed,
            "anomaly_share": segmentation.anomaly_share,
        },
        "diagnostics": diagnostics,
        "stability": segmentation.stability,
        "customers": len(segmentation.customers),
        "value_clusters": json_records(_cluster_table(segmentation)),
        "personas": json_records(segmentation.personas.reset_index()),
        "grid": json_records(grid_summary(segmentation.customers)),
        "versions": _versions(),
        **_lifetime_report(prepared),
        **_migration_report(segmentation),
    }


def _lifetime_report(prepared: PreparedData) -> dict:
    """``{"lifetime": ...}`` when the run fitted the lifetime models, else {}."""
    lifetime = getattr(prepared, "lifetime", None)
    return {} if lifetime is None else {"lifetime": lifetime.report}


def _migration_report(segmentation: Segmentation) -> dict:
    """``{"migration": ...}`` when the run compared two dates, else {}."""
    migration = getattr(segmentation, "migration", None)
    return {} if migration is None else {"migration": migration.report}


#: How each method's tiers place a new customer (API scoring, the what-if).
SCORED_BY = {
    "kmeans": "nearest k-means centre",
    "gmm": "the Gaussian mixture's most probable component (its own predict)",
    "ward": "nearest tier centroid in the standardised log features",
    "hdbscan": "nearest tier centroid in the standardised log features "
    "(a new customer is never Unclustered)",
    "value_score": "nearest k-means centre along the summed value score",
    "equal_bands": "the equal-size band of the summed value score",
}


def _method_report(segmentation: Segmentation) -> dict:
    """Return the run report's ``method``, ``method_fit`` and ``method_comparison``."""
    model = segmentation.value_model
    method = getattr(segmentation, "method", "kmeans")
    kept = getattr(model, "method_", "kmeans")
    labels = np.asarray(model.labels_)
    comparison = getattr(segmentation, "method_comparison", None)
    return {
        "method": method,
        "method_fit": {
            "kept": kept,
            "seed_used": json_scalar(getattr(model, "seed_used_", segmentation.seed)),
            "monotone": bool(getattr(model, "monotone_", True)),
            "tiers": len(model.tier_names_),
            "unclustered": int((labels < 0).sum()),
            **{
                key: json_scalar(value)
                for key, value in (getattr(model, "fit_info_", None) or {}).items()
            },
            "new_customers_scored_by": SCORED_BY.get(kept, kept),
        },
        "method_comparison": None if comparison is None else comparison.to_dict(),
    }


def json_scalar(value: object) -> object:
    """Return a JSON-ready scalar.

    Parameters
    ----------
    value : object
        A table cell: a numpy or Python scalar, a string, a timestamp, or missing.

    Returns
    -------
    object
        ``None`` for a missing value (None, NaN, NaT, ``pd.NA``) and for a
        non-finite float (JSON has no NaN or infinity); the built-in Python
        scalar for a numpy scalar; anything else unchanged.
    """
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return None
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Return a table's rows as dicts of :func:`json_scalar` values."""
    return [
        {key: json_scalar(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def run_summary(run_id: str, metadata: dict, segmentation: Segmentation) -> dict:
    """Return a saved run's value clusters and value × style cells, JSON-ready.

    Parameters
    ----------
    run_id : str
        The run's id.
    metadata : dict
        The run's ``report.json`` (``input.file``, ``created``, ``as_of``...).
    segmentation : Segmentation
        The run's labelled customers and fitted models.

    Returns
    -------
    dict
        ``run_id``, ``file``, ``created``, ``as_of``, ``k``, ``method`` (the
        clustering of the value tiers; "kmeans" for runs saved before methods
        existed), ``customers``;
        ``value_clusters``: one dict per value cluster (value_cluster,
        value_tier, customers, revenue_share 0..1, median_recency_days,
        median_frequency, median_monetary); ``personas``: one dict per value
        tier x status group (value_cluster, status, value_tier, persona,
        description, action, customers, revenue_share, medians); ``grid``: one
        dict per non-empty cell of :func:`grid_summary`. Non-finite floats
        become None.
    """
    seg, meta = segmentation, metadata
    return {
        "run_id": run_id,
        "file": meta["input"]["file"],
        "created": meta["created"],
        "as_of": meta["as_of"],
        "k": seg.k,
        "method": getattr(seg, "method", "kmeans"),
        "customers": len(seg.customers),
        "value_clusters": json_records(_cluster_table(seg)),
        "personas": json_records(seg.personas.reset_index()),
        "grid": json_records(grid_summary(seg.customers)),
    }


def _cluster_table(seg: Segmentation) -> pd.DataFrame:
    table = group_profile(seg.customers, schema.VALUE_CLUSTER, schema.VALUE_TIER)
    return table.reset_index()
