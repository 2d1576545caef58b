"""Amounts on the page, drawn with the currency the user chose.

An amount is a ``<span class="money">`` holding the digits; the symbol is the
CSS custom property ``--currency`` of the page (``assets/style.css``), set in
the browser from the "Currency" setting (:mod:`app.callbacks.currency`). So a
change of currency redraws every amount at once, without a server answer, and
the cards the browser keeps for every k (:func:`app.callbacks.panels.k_view`)
stay right whatever the currency.
"""

from __future__ import annotations

import math

from dash import html


def amount_parts(value: float | None, decimals: int = 0) -> dict | None:
    """Return an amount's sign and digits, as :func:`money` draws them.

    For an amount drawn in the browser (the persona cards,
    ``assets/persona_cards.js``): the digits go in a ``<span class="money">``
    after the sign.

    Parameters
    ----------
    value : float or None
        In the file's currency.
    decimals : int
        Digits after the decimal mark.

    Returns
    -------
    dict or None
        ``{"sign": "-" or "", "digits": "1,234"}``; None for a missing or NaN
        amount (drawn as ``"–"``, without a symbol).
    """
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return {"sign": "-" if number < 0 else "", "digits": f"{abs(number):,.{decimals}f}"}


def money(value: float | None, decimals: int = 0) -> html.Span:
    """Return an amount as ``<span class="money">1,234</span>`` (a minus before it).

    The symbol is drawn by CSS before the digits, so ``-5`` reads ``-£5``.
    Missing or NaN gives ``"–"`` (no symbol).

    Parameters
    ----------
    value : float or None
        In the file's currency.
    decimals : int
        Digits after the decimal mark.
    """
    parts = amount_parts(value, decimals)
    if parts is None:
        return html.Span("–")
    digits = html.Span(parts["digits"], className="money")
    return html.Span(["-", digits]) if parts["sign"] else digits
