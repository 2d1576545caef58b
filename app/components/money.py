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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return html.Span("–")
    number = float(value)
    digits = html.Span(f"{abs(number):,.{decimals}f}", className="money")
    return html.Span(["-", digits]) if number < 0 else digits
