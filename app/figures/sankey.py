"""The Sankey of value tier moves between two dates (DESIGN section 10).

Left, each customer's value tier ``days`` earlier (``value_tier_before``; "Not
yet a customer" for those who first bought since); right, their tier now. One
link per non-empty (before, now) pair of the run's migration report
(:func:`segmentation.migration.migrate`), its value the pair's customers, so
the links add up to every customer once. Links are coloured by direction: down
vermillion, up bluish green, new customers sky blue, same tier grey (Okabe &
Ito 2008: told apart with the common colour-vision deficiencies).

With a selection, each link is split in two: its selected customers (opaque)
and the others (faint), so the pair's two links still add up to the move.

A click reaches Dash as the point's ``label`` and ``pointNumber`` only (its
``customdata`` is not sent for a Sankey): links are labelled ``"High → Mid"``
(:data:`ARROW`), nodes by their tier, and :func:`clicked` turns the point back
into ``(before, now)`` with the same node and link order.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from app import theme
from app.figures._base import MARGIN
from segmentation import schema

#: Separates the two tiers in a link's label (nodes never hold it).
ARROW = " → "
#: Link colours by direction (rgba, half transparent so crossings stay legible).
DIRECTION_COLOURS: dict[str, str] = {
    "down": "rgba(213, 94, 0, 0.6)",
    "up": "rgba(0, 158, 115, 0.5)",
    "in": "rgba(86, 180, 233, 0.5)",
    "same": "rgba(140, 150, 160, 0.35)",
    "unranked": "rgba(140, 150, 160, 0.2)",
}
#: Each direction in words, for the links' hovers.
DIRECTION_WORDS: dict[str, str] = {
    "down": "moved to a lower tier",
    "up": "moved to a higher tier",
    "in": "new customers",
    "same": "stayed in the same tier",
    "unranked": "moved to or from Unclustered",
}
#: Each part of a split link in words (with a selection).
PART_WORDS: dict[str, str] = {"selected": "selected", "others": "not selected"}
#: Colour of the unselected part of a link while something is selected.
FAINT = "rgba(140, 150, 160, 0.12)"
#: Colour of the "Not yet a customer" node.
NEW_COLOUR = "rgb(86, 180, 233)"


@dataclass(frozen=True)
class SankeyLayout:
    """Nodes and links of the Sankey, in the order the figure draws them.

    Attributes
    ----------
    before : list of str
        Left nodes (node numbers ``0 .. len(before) - 1``): "Not yet a
        customer" first (if any), then the tiers from the lowest.
    now : list of str
        Right nodes (numbers after ``before``), tiers from the lowest.
    links : list of dict
        ``{"from", "to", "direction", "customers", "revenue", "part"}``;
        ``part`` is "all", "selected" or "others".
    """

    before: list[str]
    now: list[str]
    links: list[dict]

    def node(self, number: int) -> tuple[str | None, str | None]:
        """Return ``(before, None)`` or ``(None, now)`` for a node number."""
        if number < len(self.before):
            return self.before[number], None
        return None, self.now[number - len(self.before)]


def sankey_layout(
    moves: list[dict], tiers: list[str], selected: dict | None = None
) -> SankeyLayout:
    """Return the Sankey's nodes and links from the migration report's moves.

    Parameters
    ----------
    moves : list of dict
        ``migration.report["moves"]``: ``from``, ``to``, ``direction``,
        ``customers``, ``revenue``.
    tiers : list of str
        The value tiers from the lowest (:func:`app.figures.tier_order`); a tier
        of ``moves`` not listed (HDBSCAN's Unclustered) goes first.
    selected : dict, optional
        ``{(from, to): customers selected}``: split every link into its
        selected part and the others (zero parts are left out).
    """
    named = [*tiers]
    for move in moves:
        for tier in (move["from"], move["to"]):
            if tier != schema.NOT_YET_A_CUSTOMER and tier not in named:
                named.insert(0, tier)
    before_present = {m["from"] for m in moves}
    now_present = {m["to"] for m in moves}
    before = [t for t in [schema.NOT_YET_A_CUSTOMER, *named] if t in before_present]
    now = [t for t in named if t in now_present]
    links = []
    for move in moves:
        base = {key: move[key] for key in ("from", "to", "direction", "revenue")}
        if selected is None:
            links.append({**base, "customers": int(move["customers"]), "part": "all"})
            continue
        chosen = int(selected.get((move["from"], move["to"]), 0))
        for part, n in (("selected", chosen), ("others", move["customers"] - chosen)):
            if n > 0:
                links.append({**base, "customers": int(n), "part": part})
    return SankeyLayout(before=before, now=now, links=links)


def migration_sankey(
    report: dict,
    tiers: list[str],
    colours: dict[str, str],
    selected: dict | None = None,
    currency: str | None = None,
) -> go.Figure:
    """Return the Sankey of value tier moves.

    Parameters
    ----------
    report : dict
        The run's ``migration.report`` (``days``, ``as_of``,
        ``compared_as_of``, ``moves``).
    tiers : list of str
        Value tiers from the lowest.
    colours : dict of str to str
        Each tier's colour (:func:`app.figures._base.tier_colours`).
    selected : dict, optional
        ``{(from, to): customers selected}`` (see :func:`sankey_layout`).
    currency : str, optional
        Symbol of the revenue in the hover (None: the server's default).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``sankey`` trace; ``link.value`` are customers, ``link.label`` are
        ``"<from> → <to>"``; node ``label`` the tier names.
    """
    layout = sankey_layout(report["moves"], tiers, selected)
    nodes = [*layout.before, *layout.now]
    number = {("before", t): i for i, t in enumerate(layout.before)}
    number.update(
        {("now", t): len(layout.before) + i for i, t in enumerate(layout.now)}
    )
    size = {}
    for link in layout.links:
        for side in (("before", link["from"]), ("now", link["to"])):
            size[side] = size.get(side, 0) + link["customers"]
    node_text = [
        f"{t}, {report['days']} days ago ({report['compared_as_of']})"
        for t in layout.before
    ] + [f"{t}, now ({report['as_of']})" for t in layout.now]
    sides = [("before", t) for t in layout.before] + [("now", t) for t in layout.now]
    link_colour = [
        FAINT
        if link["part"] == "others"
        else DIRECTION_COLOURS.get(link["direction"], DIRECTION_COLOURS["same"])
        for link in layout.links
    ]
    hover = [
        f"{link['customers']:,} customers"
        + (f" ({PART_WORDS[link['part']]})" if link["part"] != "all" else "")
        + f"<br>{DIRECTION_WORDS.get(link['direction'], link['direction'])}; "
        + "revenue of the whole move "
        + theme.fmt_money(link["revenue"], currency=currency)
        for link in layout.links
    ]
    trace = go.Sankey(
        arrangement="fixed",
        valueformat=",d",
        node={
            "label": nodes,
            "color": [colours.get(t, NEW_COLOUR) for t in nodes],
            "customdata": [
                f"{text}: {size.get(side, 0):,} customers"
                for text, side in zip(node_text, sides, strict=True)
            ],
            "hovertemplate": "%{customdata}<extra></extra>",
            "pad": 14,
            "thickness": 18,
            "line": {"width": 0.5, "color": "#1d2733"},
            **_node_positions(layout, size),
        },
        link={
            "source": [number["before", link["from"]] for link in layout.links],
            "target": [number["now", link["to"]] for link in layout.links],
            "value": [link["customers"] for link in layout.links],
            "label": [f"{link['from']}{ARROW}{link['to']}" for link in layout.links],
            "color": link_colour,
            "customdata": hover,
            "hovertemplate": "%{label}: %{customdata}<extra></extra>",
        },
    )
    fig = go.Figure(trace, layout={"template": theme.TEMPLATE, "margin": MARGIN})
    for x, anchor, text in (
        (0.0, "left", f"{report['days']} days ago ({report['compared_as_of']})"),
        (1.0, "right", f"now ({report['as_of']})"),
    ):
        fig.add_annotation(
            text=text,
            x=x,
            y=1.06,
            xref="paper",
            yref="paper",
            xanchor=anchor,
            showarrow=False,
            font={"size": 12, "color": "#4a5563"},
        )
    fig.update_layout(margin={**MARGIN, "t": 40}, clickmode="event")
    return fig


def _node_positions(layout: SankeyLayout, size: dict) -> dict:
    """Place each column's nodes top-down from the highest tier; x at the edges.

    Plotly's ``y`` is a node's centre (0 top); nodes are spaced by their share
    of the column, so they do not overlap (``arrangement="fixed"``).
    """
    xs, ys = [], []
    for side, column, x in (
        ("before", layout.before, 0.001),
        ("now", layout.now, 0.999),
    ):
        total = sum(size.get((side, t), 0) for t in column) or 1
        gap = 0.04
        room = 1 - gap * (len(column) - 1)
        top = 0.0
        for tier in reversed(column):  # highest tier at the top
            share = size.get((side, tier), 0) / total * room
            xs.append((tier, side, x))
            ys.append((tier, side, top + share / 2))
            top += share + gap
    order = [("before", t) for t in layout.before] + [("now", t) for t in layout.now]
    x_of = {(side, tier): x for tier, side, x in xs}
    y_of = {(side, tier): y for tier, side, y in ys}
    return {
        "x": [x_of[key] for key in order],
        "y": [min(max(y_of[key], 0.001), 0.999) for key in order],
    }


def clicked(point: dict, layout: SankeyLayout) -> tuple[str | None, str | None] | None:
    """Return ``(before, now)`` of a clicked link, or one side of a clicked node.

    Parameters
    ----------
    point : dict
        ``clickData["points"][0]`` of the Sankey (``label``, ``pointNumber``).
    layout : SankeyLayout
        The layout the figure was drawn from (same moves, tiers, selection).

    Returns
    -------
    tuple or None
        ``(from, to)`` for a link, ``(from, None)`` or ``(None, to)`` for a
        node; None when the point matches neither (a figure of other data).
    """
    label, number = point.get("label"), point.get("pointNumber")
    if not isinstance(number, int) or label is None:
        return None
    if ARROW in str(label):
        if number >= len(layout.links):
            return None
        link = layout.links[number]
        if f"{link['from']}{ARROW}{link['to']}" != label:
            return None
        return link["from"], link["to"]
    if number >= len(layout.before) + len(layout.now):
        return None
    side = layout.node(number)
    return side if label in side else None
