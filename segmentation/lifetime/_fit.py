"""Fit the lifetime models on a file's own history and score its customers.

:func:`fit_lifetime` turns the kept purchase lines into the order summary,
checks the guardrails, fits BG/NBD and Gamma-Gamma, and returns one row per
customer (``p_alive``, expected orders, expected spend per order, CLV) with the
run report's ``lifetime`` object; with ``holdout_days`` it also fits on the
history before ``as_of - holdout_days`` and compares predicted with actual
orders in the days held out (DESIGN section 10).

CLV over a horizon of H days, with a monthly discount rate d (months of
365.25 / 12 days, the last one cut at H)::

    clv_Hd = sum over months m = 1..M of
             (E[X(t_m)] - E[X(t_(m-1))]) * E[spend per order] / (1 + d) ** m

where ``E[X(t)]`` is the BG/NBD conditional expectation of the orders in the
next t days (:meth:`BetaGeoFit.expected_orders`) and the spend per order the
Gamma-Gamma expectation. It is revenue (no margin applied), in the file's
currency, discounted to ``as_of``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from segmentation import schema
from segmentation.lifetime._bgnbd import BetaGeoFit, fit_bgnbd
from segmentation.lifetime._gamma_gamma import GammaGammaFit, fit_gamma_gamma
from segmentation.lifetime._summary import TIME_UNIT, order_summary, orders_between

__all__ = [
    "MODEL_NAME",
    "MONTH_DAYS",
    "LifetimeResult",
    "LifetimeSettings",
    "clv",
    "fit_lifetime",
]

MODEL_NAME = "BG/NBD + Gamma-Gamma (Fader, Hardie & Lee 2005)"
#: Length of the discounting month, in days.
MONTH_DAYS = 365.25 / 12
#: Repeat-order groups of the holdout comparison: 0, 1, ..., 6 and 7+ (as the
#: paper's figure 4).
HOLDOUT_GROUPS = 7


@dataclass(frozen=True)
class LifetimeSettings:
    """How the lifetime models run (defaults in one place).

    Attributes
    ----------
    orders_horizon_days : int, default 90
        Horizon of ``expected_orders_<h>d``.
    clv_horizon_days : int, default 365
        Horizon of ``clv_<h>d``.
    monthly_discount_rate : float, default 0.01
        Discount rate per month of the CLV (0.01 a month is about 12.7 % a
        year, the default of ``lifetimes``' ``customer_lifetime_value``).
    min_repeat_customers : int, default 200
        Fewer customers with a repeat order than this: no lifetime numbers. A
        four-parameter model fitted on fewer repeat buyers is unstable; the
        commercial tools ask for a few hundred (Klaviyo: 500 with 3+ orders).
    min_history_days : int, default 180
        Fewer days from the file's first order to the end of the fit: no
        numbers (Klaviyo asks for 180 days of orders).
    holdout_days : int or None, default None
        Also fit on the history before ``as_of - holdout_days`` and compare
        predicted with actual orders in the held-out days.
    """

    orders_horizon_days: int = 90
    clv_horizon_days: int = 365
    monthly_discount_rate: float = 0.01
    min_repeat_customers: int = 200
    min_history_days: int = 180
    holdout_days: int | None = None

    @property
    def columns(self) -> tuple[str, str, str, str]:
        """The per-customer columns, horizons in their names."""
        return (
            schema.P_ALIVE,
            schema.expected_orders_column(self.orders_horizon_days),
            schema.EXPECTED_SPEND_PER_ORDER,
            schema.clv_column(self.clv_horizon_days),
        )


@dataclass
class LifetimeResult:
    """The fitted lifetime models and what they say about each customer.

    Attributes
    ----------
    customers : pandas.DataFrame
        Index ``customer_id``; columns ``settings.columns`` (NaN where
        withheld).
    report : dict
        The run report's ``lifetime`` object.
    settings : LifetimeSettings
    bgnbd : BetaGeoFit or None
    gamma_gamma : GammaGammaFit or None
    withheld : str or None
        Why there are no numbers (None when there are).
    """

    customers: pd.DataFrame
    report: dict
    settings: LifetimeSettings
    bgnbd: BetaGeoFit | None = None
    gamma_gamma: GammaGammaFit | None = None
    withheld: str | None = None
    notes: list[str] = field(default_factory=list)

    def predict(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Score customers given as an order summary (x, t_x, T, m_x in days).

        Returns the ``settings.columns`` (NaN where the models were withheld).
        """
        return _predict(self.bgnbd, self.gamma_gamma, summary, self.settings)


def clv(
    bgnbd: BetaGeoFit,
    spend: np.ndarray,
    summary: pd.DataFrame,
    horizon_days: float,
    monthly_discount_rate: float,
) -> np.ndarray:
    """Return each customer's discounted expected revenue over ``horizon_days``.

    The formula of the module docstring; ``spend`` is the expected spend per
    order of each customer (currency).
    """
    months = max(1, math.ceil(horizon_days / MONTH_DAYS - 1e-9))
    edges = np.minimum(np.arange(1, months + 1) * MONTH_DAYS, horizon_days)
    args = (summary["x"], summary["t_x"], summary["T"])
    total = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for m, edge in enumerate(edges, start=1):
        upto = bgnbd.expected_orders(float(edge), *args)
        total += (upto - before) / (1 + monthly_discount_rate) ** m
        before = upto
    return total * spend


def _predict(
    bgnbd: BetaGeoFit | None,
    gamma_gamma: GammaGammaFit | None,
    summary: pd.DataFrame,
    settings: LifetimeSettings,
) -> pd.DataFrame:
    p_alive, orders, spend, value = settings.columns
    out = pd.DataFrame(np.nan, index=summary.index, columns=list(settings.columns))
    if bgnbd is None:
        return out
    args = (summary["x"], summary["t_x"], summary["T"])
    out[p_alive] = bgnbd.p_alive(*args)
    out[orders] = bgnbd.expected_orders(settings.orders_horizon_days, *args)
    if gamma_gamma is not None:
        out[spend] = gamma_gamma.expected_spend(summary["x"], summary["m_x"])
        out[value] = clv(
            bgnbd,
            out[spend].to_numpy(),
            summary,
            settings.clv_horizon_days,
            settings.monthly_discount_rate,
        )
    return out


def _too_thin(summary: pd.DataFrame, history_days: int, s: LifetimeSettings):
    repeat = int((summary["x"] > 0).sum())
    if repeat < s.min_repeat_customers:
        return (
            f"{repeat:,} of {len(summary):,} customers have a repeat order; "
            f"the lifetime models need at least {s.min_repeat_customers:,}"
        )
    if history_days < s.min_history_days:
        return (
            f"{history_days:,} days of history; "
            f"the lifetime models need at least {s.min_history_days:,}"
        )
    return None


def _fit_models(summary: pd.DataFrame, history_days: int, s: LifetimeSettings):
    """Fit both models, or say why not: (bgnbd, gamma_gamma, reason, notes)."""
    reason = _too_thin(summary, history_days, s)
    if reason:
        return None, None, reason, []
    bgnbd = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    if not bgnbd.converged:
        return None, None, f"the BG/NBD fit did not converge ({bgnbd.message})", []
    repeat = summary[(summary["x"] > 0) & (summary["m_x"] > 0)]
    gamma_gamma = fit_gamma_gamma(repeat["x"], repeat["m_x"])
    if not gamma_gamma.converged:
        note = (
            f"the Gamma-Gamma spend fit did not converge ({gamma_gamma.message}): "
            "expected spend per order and CLV are left empty"
        )
        return bgnbd, None, None, [note]
    return bgnbd, gamma_gamma, None, []


def fit_lifetime(
    lines: pd.DataFrame,
    as_of: pd.Timestamp,
    settings: LifetimeSettings | None = None,
) -> LifetimeResult:
    """Fit BG/NBD and Gamma-Gamma on the lines before ``as_of``; score everyone.

    Parameters
    ----------
    lines : pandas.DataFrame of shape (n_lines, n_columns)
        Kept purchase lines (see :func:`order_summary`). Not modified.
    as_of : pandas.Timestamp
        End of observation (midnight), the run's ``as_of``; lines on its own
        day are kept when it is the day of the last purchase.
    settings : LifetimeSettings, optional
        Horizons, discount rate, guardrails, holdout; default
        ``LifetimeSettings()``.

    Returns
    -------
    LifetimeResult
        Its columns are all NaN, and ``withheld`` says why, when the data is
        too thin (guardrails of :class:`LifetimeSettings`) or the BG/NBD fit
        does not converge.
    """
    s = settings or LifetimeSettings()
    # as_of may be the day of the last purchase (recency 0): keep that day.
    dates = lines.loc[lines[schema.CUSTOMER_ID].notna(), schema.INVOICE_DATE]
    end = max(as_of, dates.max().normalize() + pd.Timedelta(days=1))
    summary = order_summary(lines, end)
    history = int((end - summary_first_day(lines)).days) if len(summary) else 0
    bgnbd, gamma_gamma, reason, notes = _fit_models(summary, history, s)
    report = {
        "model": MODEL_NAME,
        "time_unit": TIME_UNIT,
        "fitted": bgnbd is not None,
        "withheld": reason,
        "notes": notes,
        "converged": None if bgnbd is None else gamma_gamma is not None,
        "bgnbd": None if bgnbd is None else _params(bgnbd, ("r", "alpha", "a", "b")),
        "gamma_gamma": None
        if gamma_gamma is None
        else _params(gamma_gamma, ("p", "q", "v")),
        "monthly_discount_rate": s.monthly_discount_rate,
        "discounting": "clv = sum over months m of expected orders in month m x "
        f"expected spend per order / (1 + d)^m, months of {MONTH_DAYS:g} days",
        "horizons": {
            "expected_orders_days": s.orders_horizon_days,
            "clv_days": s.clv_horizon_days,
        },
        "columns": list(s.columns),
        "guardrails": {
            "min_repeat_customers": s.min_repeat_customers,
            "min_history_days": s.min_history_days,
        },
        "data": {
            "customers": len(summary),
            "repeat_customers": int((summary["x"] > 0).sum()),
            "history_days": history,
        },
        "holdout": None,
    }
    if s.holdout_days:
        report["holdout"] = holdout(lines, as_of, s)
    return LifetimeResult(
        customers=_predict(bgnbd, gamma_gamma, summary, s),
        report=report,
        settings=s,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        withheld=reason,
        notes=notes,
    )


def summary_first_day(lines: pd.DataFrame) -> pd.Timestamp:
    """Return the day of the first purchase with a customer id."""
    dates = lines.loc[lines[schema.CUSTOMER_ID].notna(), schema.INVOICE_DATE]
    return dates.min().normalize()


def _params(fit, names: tuple[str, ...]) -> dict:
    values = asdict(fit)
    return {
        **{n: values[n] for n in names},
        "log_likelihood": fit.log_likelihood,
        "customers": fit.n_customers,
        "converged": fit.converged,
        "message": fit.message,
    }


def holdout(lines: pd.DataFrame, as_of: pd.Timestamp, s: LifetimeSettings) -> dict:
    """Fit on the days before ``as_of - holdout_days``; compare with what came.

    Returns the report's ``lifetime.holdout``: ``days``, ``calibration_end``
    (the first held-out day), ``withheld`` (why there is no comparison, or
    None), the calibration fit's ``bgnbd`` parameters, ``customers`` (those
    with an order before the calibration end: customers first seen in the held
    out days are not predicted by the model), ``predicted_orders`` (sum of
    their expected orders in the held-out days), ``actual_orders`` (their
    orders in those days), and ``by_repeat_orders``: the same per group of
    calibration repeat orders 0..6 and "7+".
    """
    days = int(s.holdout_days)
    end = as_of - pd.Timedelta(days=days)
    out = {"days": days, "calibration_end": end.date().isoformat()}
    summary = order_summary(lines, end)
    first = summary_first_day(lines)
    history = int((end - first).days) if len(summary) else 0
    bgnbd, _, reason, _ = _fit_models(summary, history, s)
    if bgnbd is None:
        return {**out, "withheld": f"calibration period: {reason}"}
    predicted = bgnbd.expected_orders(days, summary["x"], summary["t_x"], summary["T"])
    actual = orders_between(lines, end, as_of).reindex(summary.index, fill_value=0)
    group = np.minimum(summary["x"].to_numpy(), HOLDOUT_GROUPS)
    table = pd.DataFrame({"group": group, "predicted": predicted, "actual": actual})
    per = table.groupby("group").agg(
        customers=("actual", "size"),
        predicted_orders=("predicted", "sum"),
        actual_orders=("actual", "sum"),
    )
    by_group = [
        {
            "repeat_orders": f"{g}+" if g == HOLDOUT_GROUPS else str(g),
            "customers": int(row.customers),
            "predicted_orders": float(row.predicted_orders),
            "actual_orders": int(row.actual_orders),
        }
        for g, row in per.iterrows()
    ]
    return {
        **out,
        "withheld": None,
        "bgnbd": _params(bgnbd, ("r", "alpha", "a", "b")),
        "customers": len(summary),
        "predicted_orders": float(predicted.sum()),
        "actual_orders": int(actual.sum()),
        "by_repeat_orders": by_group,
    }
