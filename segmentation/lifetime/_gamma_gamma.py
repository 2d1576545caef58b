"""Gamma-Gamma: how much a customer spends per order.

The spend model of Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value
curves for customer base analysis", *Journal of Marketing Research* 42(4),
415-430 (section "Adding monetary value"; Hardie's 2013 note "The Gamma-Gamma
model of monetary value"). The value of each order is Gamma(p, ν) around the
customer's own mean, ν ~ Gamma(q, v) across customers; it is fitted on the
customers with at least one repeat order, summarised by ``x`` repeat orders and
``m_x``, the mean value of those repeat orders (as the paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from segmentation.errors import SegmentationError

__all__ = ["GammaGammaFit", "fit_gamma_gamma", "gamma_gamma_log_likelihood"]


def _arrays(x, m_x) -> tuple[np.ndarray, np.ndarray]:
    x, m_x = (np.asarray(v, dtype=float) for v in (x, m_x))
    if x.shape != m_x.shape:
        raise SegmentationError(f"x and m_x differ in shape: {x.shape}, {m_x.shape}")
    return x, m_x


def gamma_gamma_log_likelihood(params, x, m_x) -> np.ndarray:
    """Return each customer's Gamma-Gamma log-likelihood.

    ``ln L = lnΓ(px + q) - lnΓ(px) - lnΓ(q) + q ln v + (px - 1) ln m_x +
    px ln x - (px + q) ln(v + x m_x)`` (Hardie 2013, equation 3, for the mean
    ``m_x`` of ``x`` orders; the factor without parameters is left out).

    Parameters
    ----------
    params : sequence of 3 floats
        p, q, v (> 0; v in currency).
    x : array-like of shape (n_customers,)
        Repeat orders, >= 1.
    m_x : array-like of shape (n_customers,)
        Mean value of those orders, > 0 (currency).

    Returns
    -------
    numpy.ndarray of shape (n_customers,)
    """
    p, q, v = params
    x, m_x = _arrays(x, m_x)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m_x)
    )


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model.

    Attributes
    ----------
    p, q, v : float
        Maximum-likelihood estimates (``v`` in currency).
    log_likelihood : float
    converged : bool
        The optimiser reported success and q > 1 (else the mean spend of the
        population, ``p v / (q - 1)``, does not exist).
    message : str
    n_customers : int
        Customers with a repeat order, the ones fitted.
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int

    @property
    def params(self) -> tuple[float, float, float]:
        """(p, q, v)."""
        return self.p, self.q, self.v

    @property
    def population_mean(self) -> float:
        """Expected spend per order of a customer with no repeat order yet.

        ``E(M) = p v / (q - 1)`` (currency); NaN when q <= 1.
        """
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("nan")

    def expected_spend(self, x, m_x) -> np.ndarray:
        """Return each customer's expected spend per order (currency).

        ``E(M | p, q, v, m_x, x) = p (v + x m_x) / (p x + q - 1)`` (Fader,
        Hardie & Lee 2005, equation 5): a weighted mean of the population's
        mean and the customer's own. ``x = 0`` gives the population mean.

        Parameters
        ----------
        x : array-like of shape (n_customers,)
            Repeat orders (>= 0).
        m_x : array-like of shape (n_customers,)
            Mean value of the repeat orders (ignored where ``x == 0``).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
        """
        p, q, v = self.params
        x, m_x = _arrays(x, m_x)
        m_x = np.where(x > 0, m_x, 0.0)
        return p * (v + x * m_x) / (p * x + q - 1)


def fit_gamma_gamma(x, m_x, *, max_iter: int = 2000) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Log-parameterised L-BFGS-B from (1, 1, 1), on the customers given (pass
    those with a repeat order and a positive mean).

    Parameters
    ----------
    x : array-like of shape (n_customers,)
        Repeat orders, each >= 1.
    m_x : array-like of shape (n_customers,)
        Mean value of the repeat orders, each > 0 (currency).
    max_iter : int, default 2000

    Returns
    -------
    GammaGammaFit

    Raises
    ------
    SegmentationError
        No customer, or an ``x < 1`` or ``m_x <= 0`` (the message names the row).
    """
    x, m_x = _arrays(x, m_x)
    if x.size == 0:
        raise SegmentationError("the Gamma-Gamma model needs a repeat customer, got 0")
    bad = ~np.isfinite(x) | ~np.isfinite(m_x) | (x < 1) | (m_x <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SegmentationError(
            f"customer {i}: the Gamma-Gamma model needs x >= 1 and m_x > 0, "
            f"got x={x[i]}, m_x={m_x[i]}"
        )
    scale = float(x.size)
    # Start v at the mean spend, so the start is on the data's scale of money.
    start = np.log([1.0, 1.0, float(np.mean(m_x))])

    def negative(log_params: np.ndarray) -> float:
        value = gamma_gamma_log_likelihood(np.exp(log_params), x, m_x).sum()
        return -value / scale if np.isfinite(value) else np.inf

    result = minimize(
        negative,
        start,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0)] * 2 + [(-20.0, 30.0)],
        options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-8},
    )
    p, q, v = np.exp(result.x)
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        v=float(v),
        log_likelihood=float(-result.fun * scale),
        converged=bool(result.success and q > 1),
        message=str(result.message)
        if q > 1
        else f"q = {q:.3g} <= 1: the population's mean spend per order does not exist",
        n_customers=int(x.size),
    )
