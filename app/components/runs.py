"""The "Saved runs" panel: save the current segmentation, list recent runs, reopen.

A run is saved by :class:`segmentation.runs.RunStore` in the app's data folder,
where the JSON API (``POST /api/segment``) scores new customers against it.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from app import ids, theme
from app.components.panels import panel

#: Runs listed in the panel, newest first.
LISTED_RUNS = 6
#: Inline layout (the offline stylesheet, assets/style.css, has no list or flex
#: utilities).
_ROW_STYLE = {
    "display": "flex",
    "justifyContent": "space-between",
    "alignItems": "center",
    "gap": "0.5rem",
    "padding": "0.25rem 0",
    "borderTop": "1px solid #EBF0F8",
}
#: A panel stacked in the control column: its own height (``.panel`` fills its
#: column's height), a gap below.
STACKED = {"height": "auto", "marginBottom": "8px"}
_LIST_STYLE = {"listStyle": "none", "paddingLeft": 0, "margin": "0.25rem 0 0"}


def runs_panel() -> dbc.Card:
    """Return the panel: a "Save run" button, the last save's message, the list."""
    save = dbc.Button(
        "Save run", id=ids.SAVE_RUN_BUTTON, size="sm", color="primary", outline=True
    )
    card = panel(
        "Saved runs",
        html.Div(id=ids.RUN_SAVED, className="small run-saved"),
        html.Div(id=ids.RUNS_LIST, className="runs-list"),
        extra=save,
        class_name="runs",
    )
    card.style = STACKED
    return card


def scoring_hint(run_id: str, said: str = "Saved run") -> list:
    """Return ``said``, the run id and a one-line hint of how to score against it."""
    return [
        f"{said} ",
        html.Code(run_id),
        ". Score a customer against it: ",
        html.Code(
            f'POST /api/segment {{"run_id": "{run_id}", '
            '"recency_days": …, "frequency": …, "monetary": …}'
        ),
    ]


def _created(iso: str) -> str:
    """``2026-11-21T09:30:12.000001+00:00`` -> ``2026-11-21 09:30 UTC``."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 else iso


def runs_list(entries: list[dict]) -> html.Div | html.Ol:
    """Return the recent runs (file, created, k, customers) with a Reopen button each.

    Parameters
    ----------
    entries : list of dict
        Rows of :meth:`segmentation.runs.RunStore.list`, newest first. A
        damaged run (``damaged`` set) is shown as such, with its reason and
        no Reopen button.
    """
    if not entries:
        return html.Div("No saved run yet.", className="small text-muted")
    rows = []
    for run in entries:
        if run.get("damaged"):
            rows.append(_damaged_row(run))
            continue
        reopen = dbc.Button(
            "Reopen",
            id=ids.run_reopen(run["id"]),
            size="sm",
            color="secondary",
            outline=True,
            disabled=not run.get("reopenable", False),
            title=(
                f"Show run {run['id']} again"
                if run.get("reopenable")
                else "Saved by an older version without its prepared data: it cannot "
                "be reopened (the API still scores against it)"
            ),
        )
        facts = (
            f"{_created(run['created'])} · k = {run['k']} · "
            f"{theme.fmt_int(run['customers'])} customers"
        )
        rows.append(
            html.Li(
                [
                    html.Div(
                        [
                            html.Div(
                                run["file"],
                                className="run-file",
                                style={"wordBreak": "break-all"},
                            ),
                            html.Div(facts, className="text-muted"),
                        ],
                        className="run-facts",
                    ),
                    reopen,
                ],
                className="run-row small",
                title=run["id"],
                style=_ROW_STYLE,
            )
        )
    return html.Ol(rows, className="runs-rows", style=_LIST_STYLE)


def _damaged_row(run: dict) -> html.Li:
    """Return the list row of a damaged run: its id, created, and what is wrong."""
    return html.Li(
        html.Div(
            [
                html.Div(
                    f"Damaged run {run['id']}",
                    className="run-file text-danger",
                    style={"wordBreak": "break-all"},
                ),
                html.Div(
                    f"{_created(run['created'])} · {run['damaged']}; it cannot "
                    "be reopened or scored against",
                    className="text-muted",
                ),
            ],
            className="run-facts",
        ),
        className="run-row run-damaged small",
        title=run["id"],
        style=_ROW_STYLE,
    )
