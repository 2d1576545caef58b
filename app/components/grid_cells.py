"""The value × style grid's cells as buttons, for the keyboard and screen readers.

A plotly heatmap has no focusable cells. Over the grid's plot area lies a group
of buttons, one per cell, in reading order (highest tier first); each is
transparent to the pointer (clicks reach the heatmap), reached with Tab, named
in words ("Top tier, Regular: 120 customers": the trace's ``meta``,
:func:`app.figures.grid.cell_names`) and shows a focus ring on its cell.
Enter or Space presses it: it sets the grid's ``clickData`` as a click on
the cell does, so the selection becomes that cell
(:func:`app.callbacks.selection.update_selection`); ``aria-pressed`` marks
the chosen cell. The browser builds, names and places the buttons
(``assets/grid_cells.js``) after every drawing of the grid, however it was
drawn (a k change drawn in the browser needs no server).
"""

from __future__ import annotations

from dash import html

#: The group of cell buttons laid over the grid.
GRID_CELLS = "grid-cells"


def grid_cells_group() -> html.Div:
    """Return the (empty) group the browser fills with one button per grid cell."""
    return html.Div(
        id=GRID_CELLS,
        className="grid-cells",
        role="group",
        **{"aria-label": "Value × style grid cells: press one to select its customers"},
    )
