"""The column-mapping form: "Which column is which?", asked when the engine cannot tell.

DESIGN section 3: where a required column is missing or ambiguous, the user is
shown the file's headers and chooses. The form is a question, not a failure: an
info-coloured card that says in one sentence why it asks, then one dropdown per
canonical column (:data:`FORM_COLUMNS`: the required ones first, then the
optional ones), each listing the file's headers (``ColumnMappingError.headers``)
and pre-selected where a header was recognised, above a preview of the file's
first rows (:func:`segmentation.io.file_preview`). The choice is remembered per
file (:meth:`app.storage.Store.remember_mapping`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids
from segmentation import schema

HIDDEN = {"display": "none"}
TITLE = "Which column is which?"
#: An info-coloured card (the page's stylesheet styles only the danger alert).
QUESTION_STYLE = {"background": "#eaf3fb", "borderColor": "#9cc3e4", "color": "#0b3552"}
_HEADING = {"fontWeight": 600, "fontSize": "0.95rem", "marginBottom": "2px"}
_GROUP = {"fontSize": "0.7rem", "letterSpacing": "0.05em", "marginTop": "6px"}

#: Every canonical column, in the form's order: required, then optional.
FORM_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *schema.REQUIRED_COLUMNS,
            schema.UNIT_PRICE,
            schema.QUANTITY,
            schema.AMOUNT,
            schema.INVOICE_ID,
            schema.STOCK_CODE,
            schema.DESCRIPTION,
            schema.COUNTRY,
            schema.STATUS,
            *schema.CANONICAL_COLUMNS,
        ]
    )
)
#: Columns without which a file cannot be segmented (a price, or a line total).
REQUIRED: tuple[str, ...] = (*schema.REQUIRED_COLUMNS, schema.UNIT_PRICE)

#: What each canonical column holds, in the user's words.
FIELD_LABELS: dict[str, str] = {
    schema.CUSTOMER_ID: "Customer id",
    schema.INVOICE_DATE: "Order date",
    schema.UNIT_PRICE: "Unit price",
    schema.QUANTITY: "Quantity",
    schema.AMOUNT: "Line total",
    schema.INVOICE_ID: "Invoice / order number",
    schema.STOCK_CODE: "Product code",
    schema.DESCRIPTION: "Product description",
    schema.COUNTRY: "Country",
    schema.STATUS: "Order status",
}
HINTS: dict[str, str] = {
    schema.UNIT_PRICE: "or give the line total below",
    schema.QUANTITY: "without it, a line is one unit",
    schema.INVOICE_ID: "without it, customer + time is the order",
}


def mapping_panel() -> html.Div:
    """Return the (initially hidden) panel: dynamic fields and the apply button."""
    return html.Div(
        id=ids.MAPPING_PANEL,
        style=HIDDEN,
        className="mapping-form mt-2",
        children=dbc.Alert(
            [
                html.Div(id=ids.MAPPING_FIELDS),
                dbc.Button(
                    "Apply mapping",
                    id=ids.MAPPING_APPLY,
                    color="primary",
                    size="sm",
                    className="mt-2",
                ),
            ],
            color="info",
            style=QUESTION_STYLE,
        ),
    )


def preview_table(preview) -> html.Div | None:
    """Return the preview's small table (headers and first rows), or None."""
    if preview is None or preview.empty:
        return None
    head = html.Thead(html.Tr([html.Th(str(c)) for c in preview.columns]))
    body = html.Tbody(
        [html.Tr([html.Td(v) for v in row]) for row in preview.itertuples(index=False)]
    )
    return html.Div(
        [
            html.Div(f"First {len(preview)} rows of the file:", className="small"),
            dbc.Table(
                [head, body], size="sm", bordered=True, className="preview-table"
            ),
        ],
        className="mapping-preview",
    )


def recognised_headers(headers: list[str]) -> dict[str, str]:
    """Return ``{canonical: header}`` for the headers a synonym names unambiguously.

    The pre-selection of the form when the engine's error carries no partial
    mapping: a header is taken for a canonical column when its normalised form
    is one of that column's synonyms (``schema.HEADER_SYNONYMS``) and no other
    header ties with it; each header is taken once.
    """
    found: dict[str, str] = {}
    for canonical in FORM_COLUMNS:
        synonyms = schema.HEADER_SYNONYMS.get(canonical, ())
        ranked = sorted(
            (synonyms.index(schema.normalize_header(h)), h)
            for h in headers
            if h not in found.values() and schema.normalize_header(h) in synonyms
        )
        if ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0]):
            found[canonical] = ranked[0][1]
    return found


def why_asked(error, filename: str) -> str:
    """Return the one sentence that says why the form asks."""
    missing = [c for c in FORM_COLUMNS if c in (getattr(error, "missing", []) or [])]
    if not getattr(error, "headers", None):
        first = getattr(error, "first_line", None)
        shown = f" (its first line, {first!r}, is data)" if first else ""
        return (
            f"{filename} has no header row{shown}, so its columns have no names "
            "to choose from: add a header line (e.g. customer_id,invoice_date,"
            "quantity,amount) and upload it again."
        )
    names = " and the ".join(FIELD_LABELS.get(c, c).lower() for c in missing)
    return (
        f"We could not tell which column of {filename} holds the "
        f"{names or 'fields we need'}: pick it below (the other fields are "
        "optional, filled in where we recognised a header), and we will "
        "remember it for this file."
    )


def field_row(canonical: str, headers: list[str], value: str | None) -> html.Div:
    """Return one form row: the field's name (and hint), and the header dropdown."""
    label = [FIELD_LABELS.get(canonical, canonical)]
    if canonical in HINTS:
        hint = f" ({HINTS[canonical]})"
        label.append(html.Span(hint, className="text-muted", style={"fontWeight": 400}))
    return html.Div(
        [
            html.Label(label, className="small", style={"fontWeight": 600}),
            dcc.Dropdown(
                id=ids.mapping_choice(canonical),
                options=headers,
                value=value if value in headers else None,
                placeholder="choose a column",
                clearable=True,
            ),
        ],
        style={"marginBottom": "4px"},
    )


def mapping_fields(error, filename: str, preview=None, chosen=None) -> list:
    """Return the question for a :class:`segmentation.errors.ColumnMappingError`.

    Parameters
    ----------
    error : ColumnMappingError
        Carries ``headers`` (list of str) and ``missing`` (canonical names);
        ``mapping`` (the columns the engine did match) where it has one.
    filename : str
        The file the headers come from.
    preview : pandas.DataFrame, optional
        The file's first rows under its headers, shown under the dropdowns.
    chosen : dict of str to str, optional
        The user's last choices for this file, pre-selected first.

    Returns
    -------
    list
        Title, why-sentence, one dropdown row per column of
        :data:`FORM_COLUMNS` (required, then optional), and the preview.
    """
    headers = [str(h) for h in getattr(error, "headers", []) or []]
    engine = getattr(error, "mapping", None) or recognised_headers(headers)
    selected = {**engine, **(chosen or {})}
    rows = [
        html.Div("REQUIRED", className="text-muted", style=_GROUP),
        *[field_row(c, headers, selected.get(c)) for c in REQUIRED],
        html.Div("OPTIONAL", className="text-muted", style=_GROUP),
        *[
            field_row(c, headers, selected.get(c))
            for c in FORM_COLUMNS
            if c not in REQUIRED
        ],
    ]
    return [
        html.Div(TITLE, style=_HEADING),
        html.Div(why_asked(error, filename), className="small"),
        *(rows if headers else []),
        preview_table(preview),
    ]


def chosen_mapping(choice_ids: list[dict], choices: list) -> dict[str, str]:
    """Return ``{canonical: header}`` of the dropdowns that have a value."""
    return {
        cid["index"]: value
        for cid, value in zip(choice_ids, choices, strict=False)
        if value
    }
