"""Customers over time: BG/NBD, Gamma-Gamma and CLV (DESIGN section 10).

* :func:`fit_lifetime` - lines -> per-customer ``p_alive``, expected orders,
  expected spend per order and CLV, and the run report's ``lifetime`` object;
* :func:`fit_bgnbd`, :func:`fit_gamma_gamma` - the two models by maximum
  likelihood, on summaries (x, t_x, T) and (x, m_x);
* :func:`order_summary` - lines -> the summary, in days.

Pure engine: no file reading, no app.
"""

from segmentation.lifetime._bgnbd import BetaGeoFit, bgnbd_log_likelihood, fit_bgnbd
from segmentation.lifetime._fit import (
    MODEL_NAME,
    MONTH_DAYS,
    LifetimeResult,
    LifetimeSettings,
    clv,
    fit_lifetime,
)
from segmentation.lifetime._gamma_gamma import (
    GammaGammaFit,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from segmentation.lifetime._summary import TIME_UNIT, order_summary, orders_between

__all__ = [
    "MODEL_NAME",
    "MONTH_DAYS",
    "TIME_UNIT",
    "BetaGeoFit",
    "GammaGammaFit",
    "LifetimeResult",
    "LifetimeSettings",
    "bgnbd_log_likelihood",
    "clv",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_lifetime",
    "gamma_gamma_log_likelihood",
    "order_summary",
    "orders_between",
]
