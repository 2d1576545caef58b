"""The column-mapping form shown when a file's columns cannot be matched.

DESIGN section 3: where a required column is missing or ambiguous, the user is
shown the file's headers and chooses. The form offers one dropdown per canonical
column the engine reported as missing (``ColumnMappingError.missing``), each
listing the file's headers (``ColumnMappingError.headers``).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app import ids

HIDDEN = {"display": "none"}


def mapping_panel() -> html.Div:
    """Return the (initially hidden) panel: dynamic fields and the apply button."""
    return html.Div(id=ids.MAPPING_PANEL, style=HIDDEN, className="mapping-form",
                    children=[
                        html.Div(id=ids.MAPPING_FIELDS),
                        dbc.Button("Apply mapping", id=ids.MAPPING_APPLY,
                                   color="primary", size="sm", className="mt-2"),
                    ])


def mapping_fields(error, filename: str) -> list:
    """Return the dropdowns for a :class:`segmentation.errors.ColumnMappingError`.

    Parameters
    ----------
    error : ColumnMappingError
        Carries ``headers`` (list of str) and ``missing`` (canonical names).
    filename : str
        The file the headers come from.
    """
    headers = [str(h) for h in getattr(error, "headers", []) or []]
    missing = list(getattr(error, "missing", []) or [])
    rows = [
        html.Div([
            html.Label(canonical.replace("_", " "), className="control-label"),
            dcc.Dropdown(id=ids.mapping_choice(canonical), options=headers,
                         placeholder="choose the file's column", clearable=True),
        ])
        for canonical in missing
    ]
    return [html.Div(f"Which columns of {filename} hold these fields?",
                     className="panel-title"), *rows]


def chosen_mapping(choice_ids: list[dict], choices: list) -> dict[str, str]:
    """Return ``{canonical: header}`` of the dropdowns that have a value."""
    return {cid["index"]: value for cid, value in zip(choice_ids, choices,
                                                       strict=False) if value}
