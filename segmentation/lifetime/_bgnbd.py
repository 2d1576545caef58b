"""BG/NBD: how many orders a customer makes, and whether they are still active.

The beta-geometric / negative binomial distribution model of Fader, Hardie &
Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", *Marketing Science* 24(2), 275-284. While active, a customer
orders as a Poisson process of rate λ ~ Gamma(r, α); after each order they
become inactive with probability p ~ Beta(a, b). A customer is summarised by
``(x, t_x, T)``: ``x`` repeat orders (orders - 1), ``t_x`` the time from the
first order to the last, ``T`` the time from the first order to the end of
observation, all in one time unit (the engine uses days).

Equation numbers are the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1

from segmentation.errors import SegmentationError

__all__ = ["BetaGeoFit", "bgnbd_log_likelihood", "fit_bgnbd"]

#: Starting point of the optimiser (r, alpha, a, b), alpha in the time unit.
_START = (1.0, 1.0, 1.0, 1.0)


def _arrays(x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if not (x.shape == t_x.shape == T.shape):
        raise SegmentationError(
            f"x, t_x and T differ in shape: {x.shape}, {t_x.shape}, {T.shape}"
        )
    bad = ~np.isfinite(x) | ~np.isfinite(t_x) | ~np.isfinite(T)
    bad |= (x < 0) | (t_x < 0) | (T < t_x)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SegmentationError(
            f"customer {i}: need x >= 0 and 0 <= t_x <= T, "
            f"got x={x[i]}, t_x={t_x[i]}, T={T[i]}"
        )
    return x, t_x, T


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Return each customer's BG/NBD log-likelihood (equation 6, in logs).

    Parameters
    ----------
    params : sequence of 4 floats
        r, alpha, a, b (all > 0; alpha in the time unit of ``t_x`` and ``T``).
    x, t_x, T : array-like of shape (n_customers,)
        Repeat orders, time of the last order and length of observation, both
        from the customer's first order.

    Returns
    -------
    numpy.ndarray of shape (n_customers,)
        ``ln L(r, α, a, b | x, t_x, T)``.
    """
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return a1 + a2 + np.logaddexp(a3, a4)


def _gradient(params, x, t_x, T) -> np.ndarray:
    """Gradient of the summed log-likelihood in the log-parameters (4,)."""
    r, alpha, a, b = params
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (
        np.log(a)
        - np.log(b + x[repeat] - 1)
        - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    w = np.exp(a4 - np.logaddexp(a3, a4))  # share of the "dropped out" term
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha)
    d_r += -(1 - w) * np.log(alpha + T) - w * np.log(alpha + t_x)
    d_alpha = r / alpha - (1 - w) * (r + x) / (alpha + T)
    d_alpha -= w * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x)
    d_b -= w / b_x1
    sums = np.array([d_r.sum(), d_alpha.sum(), d_a.sum(), d_b.sum()])
    return sums * np.asarray(params)  # d/d(log p) = p d/dp


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model.

    Attributes
    ----------
    r, alpha, a, b : float
        Maximum-likelihood estimates; ``alpha`` in the time unit of the data.
    log_likelihood : float
        Summed over the customers fitted.
    converged : bool
        The optimiser reported success.
    message : str
        The optimiser's message.
    n_customers : int
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int

    @property
    def params(self) -> tuple[float, float, float, float]:
        """(r, alpha, a, b)."""
        return self.r, self.alpha, self.a, self.b

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """Return the probability that each customer is still active at ``T``.

        Equation (A.6's closed form, section 4 of the paper):
        ``1 / (1 + δ(x>0) · a / (b + x - 1) · ((α + T) / (α + t_x))^(r + x))``;
        a customer without a repeat order is alive with probability 1 (in the
        BG/NBD a customer can only drop out right after an order).

        Parameters
        ----------
        x, t_x, T : array-like of shape (n_customers,)

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Probabilities in (0, 1].
        """
        r, alpha, a, b = self.params
        x, t_x, T = _arrays(x, t_x, T)
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
        log_ratio += (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)

    def expected_orders(self, t, x, t_x, T) -> np.ndarray:
        """Return each customer's expected orders in the next ``t`` time units.

        The conditional expectation, equation (10):
        ``E[Y(t) | x, t_x, T] = (a + b + x - 1) / (a - 1) · [1 - ((α + T) /
        (α + T + t))^(r + x) · 2F1(r + x, b + x; a + b + x - 1; z)] / (1 +
        δ(x>0) · a / (b + x - 1) · ((α + T) / (α + t_x))^(r + x))`` with
        ``z = t / (α + T + t)``. The hypergeometric term is computed after
        Euler's transformation, ``(1 - z)^(r + x) · 2F1(r + x, b + x; c; z) =
        (1 - z)^(a - 1) · 2F1(a + b - 1 - r, a - 1; c; z)``, whose parameters
        stay small for customers with many orders (scipy's ``hyp2f1`` loses
        precision as they grow).

        Parameters
        ----------
        t : float
            Horizon, in the time unit of the data (>= 0).
        x, t_x, T : array-like of shape (n_customers,)

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Expected orders (>= 0).
        """
        if not np.isfinite(t) or t < 0:
            raise SegmentationError(f"the horizon must be >= 0, got {t}")
        r, alpha, a, b = self.params
        x, t_x, T = _arrays(x, t_x, T)
        if np.isclose(a, 1.0):  # the (a - 1) factors cancel: near the limit
            a = 1.0 + 1e-7
        z = t / (alpha + T + t)
        c = a + b + x - 1
        euler = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        first = (a + b + x - 1) / (a - 1) * (1 - euler)
        return first * self.p_alive(x, t_x, T)


def fit_bgnbd(x, t_x, T, *, start=_START, max_iter: int = 2000) -> BetaGeoFit:
    """Fit the BG/NBD by maximum likelihood.

    The four parameters are optimised on the log scale (so they stay positive)
    with L-BFGS-B and the analytic gradient; the log-likelihood is the sum of
    :func:`bgnbd_log_likelihood` (equation 6).

    Parameters
    ----------
    x, t_x, T : array-like of shape (n_customers,)
        Repeat orders, time of the last order and length of observation, both
        from the customer's first order, in one time unit.
    start : sequence of 4 floats, default (1, 1, 1, 1)
        Starting r, alpha, a, b.
    max_iter : int, default 2000

    Returns
    -------
    BetaGeoFit

    Raises
    ------
    SegmentationError
        No customer, or an impossible (x, t_x, T) (the message names the row).
    """
    x, t_x, T = _arrays(x, t_x, T)
    if x.size == 0:
        raise SegmentationError("the BG/NBD needs at least one customer, got 0")
    scale = float(x.size)

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = bgnbd_log_likelihood(params, x, t_x, T).sum()
        if not np.isfinite(value):
            return np.inf, np.zeros(4)
        return -value / scale, -_gradient(params, x, t_x, T) / scale

    result = minimize(
        negative,
        np.log(np.asarray(start, dtype=float)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0)] * 4,
        options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-8},
    )
    r, alpha, a, b = np.exp(result.x)
    return BetaGeoFit(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(-result.fun * scale),
        converged=bool(result.success),
        message=str(result.message),
        n_customers=int(x.size),
    )
