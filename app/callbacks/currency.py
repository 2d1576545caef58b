"""The "Currency" setting: which symbol the page's amounts carry.

A retail export rarely says its currency. The setting "As in the file" uses the
file's when it is known: a currency symbol or code in the header of the mapped
price or amount column (``Price (EUR)``, ``Betrag €``, ``UnitPrice GBP``), or
the built-in sample's, pounds sterling (the UCI description of "Online Retail":
"UnitPrice: Product price per unit in sterling"); otherwise none. The user can
choose £, $, € or none instead; the choice stays in the browser.

The symbol goes to ``CURRENCY_STORE``; the browser then sets the page's CSS
property ``--currency`` (every :func:`app.components.money.money` amount) and
the table's columns are rebuilt with it (:mod:`app.callbacks.selection`).
"""

from __future__ import annotations

import re

from dash import ClientsideFunction, Input, Output

from app import ids, theme
from app.callbacks.common import current_prepared
from app.components.controls import (
    CURRENCY_BOX,
    CURRENCY_CHOICE,
    CURRENCY_NONE,
    CURRENCY_STORE,
    currency_options,
)
from segmentation import SAMPLE_NAME, schema
from segmentation.errors import SegmentationError

#: The sample's currency (UCI "Online Retail": prices in sterling).
SAMPLE_CURRENCY = "£"
#: Symbols and ISO codes read in a column header, and the symbol each means.
_HEADER_CURRENCY = (
    (re.compile(r"£|\bGBP\b", re.IGNORECASE), "£"),
    (re.compile(r"€|\bEUR\b", re.IGNORECASE), "€"),
    (re.compile(r"\$|\bUSD\b", re.IGNORECASE), "$"),
)
_MONEY_FIELDS = (schema.UNIT_PRICE, schema.AMOUNT, schema.LINE_TOTAL)


def file_currency(source_name: str, mapping: dict[str, str] | None) -> str | None:
    """Return the currency symbol a file states, or None when it states none.

    Parameters
    ----------
    source_name : str
        The file's name (the built-in sample's is ``segmentation.SAMPLE_NAME``).
    mapping : dict of str to str or None
        Canonical column -> the file's header (``PreparedData.mapping``); the
        headers of the price, amount and line-total columns are read.

    Returns
    -------
    str or None
        ``"£"``, ``"€"`` or ``"$"``; None when no header names one, or when
        two headers name different currencies.
    """
    if source_name == SAMPLE_NAME:
        return SAMPLE_CURRENCY
    found = set()
    for field in _MONEY_FIELDS:
        header = (mapping or {}).get(field)
        for pattern, symbol in _HEADER_CURRENCY:
            if header and pattern.search(str(header)):
                found.add(symbol)
    return found.pop() if len(found) == 1 else None


def resolve_currency(choice, dataset):
    """Return the symbol for the setting, and the setting's options.

    Parameters
    ----------
    choice : str or None
        ``"file"``, a symbol of :data:`app.theme.CURRENCIES` or ``"none"``.
    dataset : dict or None
        The browser's dataset store.

    Returns
    -------
    symbol : str
        ``""`` for none.
    options : list of dict
        The setting's options; "As in the file" says what the file gives
        (``"As in the file (£)"``, ``"As in the file (not stated)"``).
    """
    stated = None
    if dataset:
        try:
            prepared = current_prepared(dataset)
        except SegmentationError:
            prepared = None
        if prepared is not None:
            stated = file_currency(prepared.source_name, prepared.mapping)
    if choice == CURRENCY_NONE:
        symbol = ""
    elif choice in theme.CURRENCIES:
        symbol = choice
    else:
        symbol = stated or ""
    return symbol, currency_options(stated)


def register_callbacks(app) -> None:
    """Register the currency callbacks on ``app``."""
    app.callback(
        Output(CURRENCY_STORE, "data"),
        Output(CURRENCY_CHOICE, "options"),
        Input(CURRENCY_CHOICE, "value"),
        Input(ids.DATASET_STORE, "data"),
    )(resolve_currency)
    # the page's amounts: the CSS property --currency on <html>; the box's
    # title says the symbol in words
    app.clientside_callback(
        ClientsideFunction(namespace="segmentation", function_name="setCurrency"),
        Output(CURRENCY_BOX, "title"),
        Input(CURRENCY_STORE, "data"),
    )
