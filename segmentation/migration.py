"""Migration: where each customer stood N days earlier, by the same rules.

DESIGN section 10: segments at two dates from one upload, ``as_of`` and
``as_of - N days``, the same rules at both; who moved up, down, in and out, with
the revenue at stake.

* :func:`earlier_features` - the cleaned lines -> customer features at the
  earlier date (:class:`EarlierFeatures`), from the lines dated before it;
* :func:`migrate` - those features, the labelled customers and the fitted
  models of the later date -> each customer's ``value_tier_before`` and
  ``status_before``, and the report's ``migration`` object (:class:`Migration`).

The rules, in words:

* **The earlier date** is ``compared_as_of = as_of - days`` (midnight). Its
  features are :func:`segmentation.features.customer_features` of the kept
  purchase lines and the return lines dated strictly before it, with recency
  and tenure counted to it. The lines are those cleaned once from the whole
  file, so a rule the cleaning decides on the whole file (e.g. that a ``C``
  invoice prefix marks returns) is the same at both dates.
* **The same fitted rules, not a refit**: the value tier at the earlier date is
  the later date's fitted value-tier model's ``predict`` (its k-means centres,
  mixture, or tier centroids), and the status is the later date's fitted
  status model's ``predict`` (its population gap between orders). A customer
  whose frequency and monetary are the same at both dates keeps the tier the
  run gave them: for k-means and the mixture ``predict`` gives it anyway, but
  Ward's and HDBSCAN's tiers are memberships of a clustering, which the
  nearest-centroid ``predict`` does not always reproduce (Online Retail I,
  k=3, 90 days: of the 1,425 customers unchanged since the earlier date,
  ``predict`` gives 113 another tier than Ward's and 286 another than
  HDBSCAN's, 0 for k-means and the mixture), and an Unclustered customer who
  did not change stays Unclustered.
  So a customer's tier moves only because their own orders and spend moved.
  For Ward and HDBSCAN, a customer who did change is still placed by nearest
  centroid at the earlier date, so their move compares a placement with a
  membership (HDBSCAN's Unclustered is reached only by a membership: a move
  to or from it is ``unranked``).
* **Customers of either date appear exactly once.** The later date holds every
  line, so every customer of the earlier date is a customer of the later one;
  nobody can be present only before (checked: :class:`SegmentationError`
  otherwise). A customer with no kept purchase before the earlier date has
  ``value_tier_before = status_before =`` :data:`schema.NOT_YET_A_CUSTOMER`
  ("Not yet a customer"): they moved *in*. Moving *out* shows as a status
  moving to Lapsed, since a lapsed customer is still in the file.
* **Revenue** of a move is its customers' ``monetary`` at the later date: net
  spend over the whole history to ``as_of``, in the file's currency (what the
  tiers are made of), so the moves' revenue adds up to the run's total.

Pure engine: no file reading, no app.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.errors import EmptyResultError, SegmentationError
from segmentation.features import customer_features

__all__ = [
    "REVENUE_MEANS",
    "EarlierFeatures",
    "Migration",
    "earlier_features",
    "migrate",
    "with_migration",
]

NOT_YET = schema.NOT_YET_A_CUSTOMER
#: What a move's ``revenue`` is, as the report says it.
REVENUE_MEANS = (
    "monetary at as_of: the customers' net spend over their whole history to the "
    "later date, in the file's currency"
)
#: Direction of a move (report ``direction``): in (new customer), up, same,
#: down; ``unranked`` for a value tier move to or from HDBSCAN's Unclustered.
DIRECTIONS: tuple[str, ...] = ("in", "up", "same", "down", "unranked")


@dataclass
class EarlierFeatures:
    """Customer features at the earlier date of a migration.

    Attributes
    ----------
    days : int
        N: the earlier date is ``as_of - days``.
    as_of : pandas.Timestamp
        The earlier date (midnight), ``compared_as_of`` in the report.
    features : pandas.DataFrame
        Index ``customer_id``, columns ``schema.FEATURE_COLUMNS``: every customer
        with a kept purchase dated before ``as_of`` (recency and tenure counted
        to it); empty when no line is that old.
    """

    days: int
    as_of: pd.Timestamp
    features: pd.DataFrame


@dataclass
class Migration:
    """Each customer's tier and status at the earlier date, and the moves.

    Attributes
    ----------
    days : int
        N, days between the two dates.
    as_of, compared_as_of : pandas.Timestamp
        The later and the earlier date.
    before : pandas.DataFrame
        Index ``customer_id`` (the labelled customers' order), columns
        ``value_tier_before`` and ``status_before`` (str;
        :data:`schema.NOT_YET_A_CUSTOMER` for a customer new since the earlier
        date) and ``value_cluster_before`` (int; -2 for a new customer, -1
        for an Unclustered customer of an HDBSCAN run who did not change).
    report : dict
        The run report's ``migration`` (see :func:`migrate`), JSON-ready.
    """

    days: int
    as_of: pd.Timestamp
    compared_as_of: pd.Timestamp
    before: pd.DataFrame
    report: dict = field(default_factory=dict)


#: ``value_cluster_before`` of a customer new since the earlier date.
NEW_CLUSTER = -2


def earlier_features(
    kept: pd.DataFrame,
    returns: pd.DataFrame | None,
    as_of: pd.Timestamp,
    days: int,
) -> EarlierFeatures:
    """Return the customer features at ``as_of - days``, from the earlier lines.

    Parameters
    ----------
    kept : pandas.DataFrame of shape (n_lines, n_columns)
        Kept purchase lines of :func:`segmentation.cleaning.clean_transactions`
        (``customer_id``, ``invoice_date``, ``line_total`` ...).
    returns : pandas.DataFrame or None
        Its return lines (``invoice_date``, ``line_total`` > 0 ...).
    as_of : pandas.Timestamp
        The run's reference date (midnight), the later date.
    days : int
        N >= 1.

    Returns
    -------
    EarlierFeatures
        Features of the lines dated strictly before ``as_of - days`` (returns
        too: a return after that date is not deducted there), recency and
        tenure counted to ``as_of - days``; an empty table when no kept line
        is that old.

    Raises
    ------
    SegmentationError
        ``days`` is not a whole number >= 1.
    """
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise SegmentationError(
            f"compare_days must be a whole number of days >= 1, got {days!r}"
        )
    cut = as_of - pd.Timedelta(days=int(days))
    earlier = kept[kept[schema.INVOICE_DATE] < cut]
    if returns is not None:
        returns = returns[returns[schema.INVOICE_DATE] < cut]
    try:
        features = customer_features(earlier, returns, as_of=cut)
    except EmptyResultError:  # nobody had bought yet
        features = pd.DataFrame(
            columns=list(schema.FEATURE_COLUMNS),
            index=pd.Index([], dtype="str", name=schema.CUSTOMER_ID),
        )
    return EarlierFeatures(days=int(days), as_of=cut, features=features)


def migrate(
    customers: pd.DataFrame,
    earlier: EarlierFeatures,
    value_model,
    status_model,
    *,
    as_of: pd.Timestamp,
) -> Migration:
    """Place every customer at the earlier date with the fitted models; count moves.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, ...)
        The labelled customers of the later date (``Segmentation.customers``):
        ``customer_id``, ``value_cluster``, ``value_tier``, ``status``,
        ``monetary``.
    earlier : EarlierFeatures
        :func:`earlier_features` of the same lines.
    value_model : ValueTiers
        The later date's fitted value tiers: ``predict`` and ``tier_names_``.
    status_model : RecencyStatus
        The later date's fitted status model: ``predict``.
    as_of : pandas.Timestamp
        The later date.

    Returns
    -------
    Migration
        ``before`` per customer, and ``report`` (JSON-ready): ``days``,
        ``as_of``, ``compared_as_of``, ``customers`` (at as_of),
        ``customers_before`` (at compared_as_of), ``new_customers``,
        ``revenue`` (total monetary at as_of), ``revenue_means``
        (:data:`REVENUE_MEANS`), ``not_yet_a_customer`` (the label),
        ``moves`` (value tier) and ``status_moves``: one dict per non-empty
        (from, to) pair - ``from``, ``to``, ``direction`` (in, up, same, down,
        unranked), ``customers``, ``revenue`` - new customers first, then by
        the earlier tier (status) and the later one, from the lowest tier (the
        least current status); ``tier_directions`` and ``status_directions``:
        customers and revenue per direction (every direction listed; status
        has no ``unranked``), and ``rules`` (the rules in words). Revenue is
        rounded to the cent.

    Raises
    ------
    SegmentationError
        A customer of the earlier date is missing at the later date (the lines
        of the two dates are not the same file's).
    """
    from segmentation.models import STATUSES, UNCLUSTERED, UNCLUSTERED_LABEL

    ids = customers[schema.CUSTOMER_ID].astype("str").to_numpy()
    features = earlier.features
    stray = features.index.difference(pd.Index(ids))
    if len(stray):
        raise SegmentationError(
            f"{len(stray):,} customers of {earlier.as_of.date()} are not among the "
            f"customers of {as_of.date()} (e.g. {stray[0]!r}): the two dates must "
            "come from the same lines"
        )
    names = np.asarray([*value_model.tier_names_, UNCLUSTERED], dtype=object)
    cluster = pd.Series(NEW_CLUSTER, index=ids, dtype="int64")
    tier = pd.Series(NOT_YET, index=ids, dtype=object)
    status = pd.Series(NOT_YET, index=ids, dtype=object)
    if len(features):
        placed = np.asarray(value_model.predict(features), dtype="int64")
        later = customers.set_index(pd.Index(ids)).loc[features.index]
        unchanged = np.ones(len(features), dtype=bool)
        for column in schema.VALUE_FEATURES:
            unchanged &= np.isclose(
                features[column].to_numpy(float),
                later[column].to_numpy(float),
                rtol=1e-12,
                atol=1e-9,
            )
        placed = np.where(unchanged, later[schema.VALUE_CLUSTER].to_numpy(), placed)
        cluster[features.index] = placed
        tier[features.index] = names[placed]  # -1 (Unclustered): the last name
        status[features.index] = status_model.predict(features).to_numpy()
    before = pd.DataFrame(
        {
            schema.VALUE_TIER_BEFORE: tier.astype("str"),
            schema.STATUS_BEFORE: status.astype("str"),
            "value_cluster_before": cluster,
        }
    ).rename_axis(schema.CUSTOMER_ID)
    later_cluster = customers[schema.VALUE_CLUSTER].to_numpy("int64")
    monetary = customers[schema.MONETARY].to_numpy("float64")
    tier_move = pd.DataFrame(
        {
            "from": before[schema.VALUE_TIER_BEFORE].to_numpy(),
            "to": customers[schema.VALUE_TIER].astype("str").to_numpy(),
            "direction": _tier_direction(
                cluster.to_numpy(), later_cluster, UNCLUSTERED_LABEL
            ),
            "from_rank": cluster.to_numpy(),
            "to_rank": later_cluster,
            "revenue": monetary,
        }
    )
    rank = {s: -i for i, s in enumerate(STATUSES)}  # Lapsed lowest, Active highest
    status_from = before[schema.STATUS_BEFORE].to_numpy()
    status_to = customers[schema.CUSTOMER_STATUS].astype("str").to_numpy()
    from_rank = np.array([rank.get(s, NEW_CLUSTER * 10) for s in status_from])
    to_rank = np.array([rank[s] for s in status_to])
    status_move = pd.DataFrame(
        {
            "from": status_from,
            "to": status_to,
            "direction": np.select(
                [status_from == NOT_YET, to_rank > from_rank, to_rank < from_rank],
                ["in", "up", "down"],
                "same",
            ),
            "from_rank": from_rank,
            "to_rank": to_rank,
            "revenue": monetary,
        }
    )
    n_before = len(features)
    report = {
        "days": earlier.days,
        "as_of": as_of.date().isoformat(),
        "compared_as_of": earlier.as_of.date().isoformat(),
        "customers": len(ids),
        "customers_before": n_before,
        "new_customers": len(ids) - n_before,
        "revenue": _cents(monetary.sum()),
        "revenue_means": REVENUE_MEANS,
        "not_yet_a_customer": NOT_YET,
        "moves": _moves(tier_move),
        "status_moves": _moves(status_move),
        "tier_directions": _directions(tier_move, DIRECTIONS),
        "status_directions": _directions(status_move, DIRECTIONS[:-1]),
        "rules": RULES,
    }
    return Migration(
        days=earlier.days,
        as_of=as_of,
        compared_as_of=earlier.as_of,
        before=before,
        report=report,
    )


#: The rules of :func:`migrate`, as the report states them.
RULES = (
    "Tiers and statuses at compared_as_of use the models fitted at as_of (not a "
    "refit) on features from the lines dated before compared_as_of, with recency "
    "and tenure counted to it; a customer with no purchase before it is "
    f"'{NOT_YET}'. Every customer of either date is counted once: the later date "
    "holds every line, so nobody is a customer only before. Revenue is monetary "
    "at as_of."
)


def _tier_direction(before: np.ndarray, after: np.ndarray, noise: int) -> np.ndarray:
    return np.select(
        [
            before == NEW_CLUSTER,
            (before == noise) & (after == noise),
            (before == noise) | (after == noise),
            after > before,
            after < before,
        ],
        ["in", "same", "unranked", "up", "down"],
        "same",
    )


def _moves(table: pd.DataFrame) -> list[dict]:
    """One dict per non-empty (from, to) pair, ordered by rank.

    A rank names one label on its side (tier number, status order), so the
    pairs are counted on the integer ranks and named from a member.
    """
    ranks = table[["from_rank", "to_rank"]].to_numpy("int64")
    pairs, first, inverse = np.unique(
        ranks, axis=0, return_index=True, return_inverse=True
    )
    inverse = inverse.ravel()
    customers = np.bincount(inverse, minlength=len(pairs))
    revenue = np.bincount(inverse, weights=table["revenue"], minlength=len(pairs))
    named = table.iloc[first]
    return [
        {
            "from": str(row["from"]),
            "to": str(row["to"]),
            "direction": str(row["direction"]),
            "customers": int(n),
            "revenue": _cents(value),
        }
        for (_, row), n, value in zip(named.iterrows(), customers, revenue, strict=True)
    ]


def _directions(table: pd.DataFrame, directions: tuple[str, ...]) -> dict[str, dict]:
    """Count customers and revenue per direction, each of ``directions`` listed."""
    per = table.groupby("direction")["revenue"].agg(["size", "sum"])
    return {
        d: {
            "customers": int(per["size"].get(d, 0)),
            "revenue": _cents(per["sum"].get(d, 0.0)),
        }
        for d in directions
    }


def _cents(value) -> float:
    """Money as the report writes it: rounded to the cent."""
    return round(float(value), 2)


def with_migration(
    customers: pd.DataFrame, migration: Migration | None
) -> pd.DataFrame:
    """Add ``value_tier_before`` and ``status_before`` to the labelled customers.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``Segmentation.customers``.
    migration : Migration or None
        None returns ``customers`` unchanged.

    Returns
    -------
    pandas.DataFrame
        ``customers`` with the two columns last, by ``customer_id``.
    """
    if migration is None:
        return customers
    ids = customers[schema.CUSTOMER_ID].astype("str").to_numpy()
    before = migration.before.reindex(ids)
    return customers.assign(
        **{
            c: before[c].to_numpy()
            for c in (schema.VALUE_TIER_BEFORE, schema.STATUS_BEFORE)
        }
    )
