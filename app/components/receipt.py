"""The cleaning receipt: header figures and the table of reasons."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from app import theme
from segmentation import schema


def receipt_facts(prepared) -> list[tuple[str, str]]:
    """Return the receipt's header figures as (label, formatted value) pairs.

    Parameters
    ----------
    prepared : segmentation.segmentation.PreparedData
        Its report (``rows_in``, ``kept``), features, as_of, sheets and mapping.
    """
    features = prepared.features
    facts = [
        ("File", f"{prepared.source_name} ({prepared.file_format})"),
        ("Lines read", theme.fmt_int(prepared.report.rows_in)),
        ("Lines kept", theme.fmt_int(prepared.report.kept)),
        ("Customers", theme.fmt_int(len(features))),
        ("Revenue", theme.fmt_money(features[schema.MONETARY].sum())),
        ("As of", pd.Timestamp(prepared.as_of).strftime("%Y-%m-%d")),
    ]
    if prepared.sheets_read or prepared.sheets_skipped:
        sheets = ", ".join(prepared.sheets_read)
        if prepared.sheets_skipped:
            sheets += f" (skipped: {', '.join(prepared.sheets_skipped)})"
        facts.append(("Sheets", sheets))
    mapping = ", ".join(
        f"{canon} ← {header}" for canon, header in prepared.mapping.items()
    )
    facts.append(("Columns", mapping))
    return facts


def reasons_table(report_frame: pd.DataFrame) -> dbc.Table:
    """Return the reasons table: reason (its description below), lines, share."""
    head = html.Thead(html.Tr([html.Th("Reason"), html.Th("Lines"), html.Th("Share")]))
    rows = [
        html.Tr(
            [
                html.Td(
                    [
                        html.Div(
                            str(r["reason"]).replace("_", " "), className="reason"
                        ),
                        html.Div(str(r["description"]), className="reason-text"),
                    ]
                ),
                html.Td(theme.fmt_int(r["lines"])),
                html.Td(theme.fmt_pct(r["share_pct"])),
            ]
        )
        for r in report_frame.to_dict("records")
    ]
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", striped=True, className="receipt-table"
    )


def sentences(title: str, items: list[str]) -> list:
    """Return a small titled bullet list, or nothing when ``items`` is empty."""
    if not items:
        return []
    return [
        html.Div(title, className="small mt-2", style={"fontWeight": 600}),
        html.Ul(
            [html.Li(item) for item in items],
            className="small text-muted",
            style={"paddingLeft": "18px"},
        ),
    ]


def cleaning_receipt(prepared) -> list:
    """Return the receipt's children: facts, reasons table, rules and notes.

    The reasons table has every bucket of the report (``report.to_frame()``);
    under it, the rules the lines were sorted by (``report.rules``) and what
    was assumed reading the file (``prepared.notes``).
    """
    facts = html.Dl(
        [
            part
            for label, value in receipt_facts(prepared)
            for part in (html.Dt(label), html.Dd(value))
        ],
        className="receipt-facts",
    )
    return [
        facts,
        reasons_table(prepared.report.to_frame()),
        *sentences("Rules applied", getattr(prepared.report, "rules", None) or []),
        *sentences("Read as", prepared.notes),
    ]
