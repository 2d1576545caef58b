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

The figures that show money take the store as an Input: the customer scatter
and the feature heatmap (:func:`app.callbacks.panels.render_requested`), the
PCA view, the distributions and the R × F grid. When the store alone changed
(:func:`changed_alone`), the first four get a small Patch (their hovers read
the symbol from ``layout.meta.currency``: :data:`app.theme.CURRENCY_FIELD`),
not a new figure: the browser keeps its points, zoom and a drawn lasso.
"""

from __future__ import annotations

import re

from dash import ClientsideFunction, Input, Output, ctx
from dash.exceptions import MissingCallbackContextException

from app import ids, theme
from app.callbacks.common import current_prepared
from app.callbacks.whatif import star_for
from app.components.controls import (
    CURRENCY_BOX,
    CURRENCY_CHOICE,
    CURRENCY_NONE,
    CURRENCY_STORE,
    currency_options,
)
from app.figures import profile, scatter
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


def changed_alone() -> bool:
    """Whether the currency store alone triggered the running callback.

    False outside a callback (a callback called as a function draws its whole
    figure) and when anything else changed with it.
    """
    try:
        triggered = set(ctx.triggered_prop_ids)
    except MissingCallbackContextException:
        return False
    return triggered == {f"{CURRENCY_STORE}.data"}


def panel_patches(currency, whatif=None, dataset=None):
    """Return the Patches of the scatter and the feature heatmap to ``currency``.

    Parameters
    ----------
    currency : str or None
        The store's symbol (``""``: none; None: the server's default).
    whatif : dict or None
        The what-if store: its star's hover is rewritten when it belongs to
        ``dataset`` (:func:`app.callbacks.whatif.star_for`).
    dataset : dict or None
        The dataset store.

    Returns
    -------
    scatter, heatmap : dash.Patch
        :func:`app.figures.scatter.currency_patch` and
        :func:`app.figures.profile.currency_patch`.
    """
    star = star_for(whatif, dataset)
    return scatter.currency_patch(currency, star), profile.currency_patch(currency)


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
