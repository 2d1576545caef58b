"""The column-mapping form shown when a file's columns cannot be matched.

DESIGN section 3: where a required column is missing or ambiguous, the user is
shown the file's headers and chooses. The form offers one dropdown per canonical
column the engine reported as missing (``ColumnMappingError.missing``), each
listing the file's headers (``ColumnMappingError.headers``), above a preview of
the file's first rows (:func:`segmentation.io.file_preview`). The choice is
remembered per file (:meth:`app.storage.Store.remember_mapping`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids

HIDDEN = {"display": "none"}


def mapping_panel() -> html.Div:
    """Return the (initially hidden) panel: dynamic fields and the apply button."""
    return html.Div(
        id=ids.MAPPING_PANEL,
        style=HIDDEN,
        className="mapping-form",
        children=[
            html.Div(id=ids.MAPPING_FIELDS),
            dbc.Button(
                "Apply mapping",
                id=ids.MAPPING_APPLY,
                color="primary",
                size="sm",
                className="mt-2",
            ),
        ],
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


def mapping_fields(error, filename: str, preview=None) -> list:
    """Return the dropdowns for a :class:`segmentation.errors.ColumnMappingError`.

    Parameters
    ----------
    error : ColumnMappingError
        Carries ``headers`` (list of str) and ``missing`` (canonical names).
    filename : str
        The file the headers come from.
    preview : pandas.DataFrame, optional
        The file's first rows under its headers, shown under the dropdowns.
    """
    headers = [str(h) for h in getattr(error, "headers", []) or []]
    missing = list(getattr(error, "missing", []) or [])
    rows = [
        html.Div(
            [
                html.Label(canonical.replace("_", " "), className="control-label"),
                dcc.Dropdown(
                    id=ids.mapping_choice(canonical),
                    options=headers,
                    placeholder="choose the file's column",
                    clearable=True,
                ),
            ]
        )
        for canonical in missing
    ]
    return [
        html.Div(
            f"Which columns of {filename} hold these fields?", className="panel-title"
        ),
        *rows,
        preview_table(preview),
    ]


def chosen_mapping(choice_ids: list[dict], choices: list) -> dict[str, str]:
    """Return ``{canonical: header}`` of the dropdowns that have a value."""
    return {
        cid["index"]: value
        for cid, value in zip(choice_ids, choices, strict=False)
        if value
    }
