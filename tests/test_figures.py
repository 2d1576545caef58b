"""Figure builders on a tiny hand-made customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from app import figures, theme
from app.selection import selection_mask
from segmentation import schema

# 10 customers: (id, cluster, tier, style, frequency, monetary)
ROWS = [
    ("c01", 0, "Low", "Regular", 1, 50.0),
    ("c02", 0, "Low", "Regular", 1, 70.0),
    ("c03", 0, "Low", "Regular", 2, 80.0),
    ("c04", 0, "Low", "Anomaly", 1, 10.0),
    ("c05", 1, "Mid", "Regular", 4, 400.0),
    ("c06", 1, "Mid", "Regular", 5, 500.0),
    ("c07", 1, "Mid", "Bulk", 3, 900.0),
    ("c08", 2, "High", "Regular", 20, 5000.0),
    ("c09", 2, "High", "Bulk", 30, 20000.0),
    ("c10", 2, "High", "Bulk", 25, 15000.0),
]
GRID_LABELS = {
    ("Low", "Regular"): "Low-value regulars",
    ("Low", "Anomaly"): "Investigate",
    ("Mid", "Regular"): "Growth opportunities",
    ("Mid", "Bulk"): "Small wholesalers",
    ("High", "Regular"): "Loyal core",
    ("High", "Bulk"): "Key accounts",
}


def synthetic_customers(rows=ROWS) -> pd.DataFrame:
    """All OUTPUT_COLUMNS, 3 tiers Low/Mid/High, styles Regular/Bulk/Anomaly.

    Statuses cycle Active, Cooling, Lapsed; the figures do not read them.
    """
    ids, cluster, tier, style, freq, money = map(list, zip(*rows, strict=True))
    n = len(ids)
    status = (["Active", "Cooling", "Lapsed"] * n)[:n]
    frame = pd.DataFrame(
        {
            schema.CUSTOMER_ID: ids,
            schema.RECENCY_DAYS: np.arange(n) * 10 + 1,
            schema.FREQUENCY: freq,
            schema.MONETARY: money,
            schema.GROSS_MONETARY: money,
            schema.RETURNED_VALUE: np.zeros(n),
            schema.TENURE_DAYS: np.arange(n) * 20 + 30,
            schema.AVG_ORDER_VALUE: np.array(money) / np.array(freq),
            schema.AVG_ITEMS_PER_ORDER: np.linspace(5, 50, n),
            schema.AVG_LINE_QUANTITY: np.linspace(1, 10, n),
            schema.MAX_LINE_QUANTITY: np.linspace(2, 100, n),
            schema.DISTINCT_PRODUCTS: np.arange(n) + 1,
            schema.RETURN_RATE: np.zeros(n),
            schema.LARGEST_ORDER_RATIO: np.ones(n),
            schema.ORDER_VALUE_CV: np.zeros(n),
            schema.R_SCORE: (np.arange(n) % 5) + 1,
            schema.F_SCORE: (np.arange(n) % 5) + 1,
            schema.M_SCORE: (np.arange(n) % 5) + 1,
            schema.RFM_SEGMENT: ["Hibernating"] * n,
            schema.VALUE_CLUSTER: cluster,
            schema.VALUE_TIER: tier,
            schema.CUSTOMER_STATUS: status,
            # personas name a value tier x status group
            schema.PERSONA: [
                f"Persona {c} · {s}" for c, s in zip(cluster, status, strict=True)
            ],
            schema.PURCHASE_STYLE: style,
            schema.STYLE_REASON: ["" if s == "Regular" else "why" for s in style],
            schema.SEGMENT: [f"{t} · {s}" for t, s in zip(tier, style, strict=True)],
            schema.GRID_LABEL: [
                GRID_LABELS[(t, s)] for t, s in zip(tier, style, strict=True)
            ],
        }
    )
    return frame[list(schema.OUTPUT_COLUMNS)]


@pytest.fixture
def customers():
    return synthetic_customers()


def test_grid_counts_equal_a_hand_count(customers):
    table = figures.grid_counts(customers)
    # Low: 3 Regular, 0 Bulk, 1 Anomaly; Mid: 2/1/0; High: 1/2/0
    assert table.index.tolist() == ["Low", "Mid", "High"]
    assert table.columns.tolist() == ["Regular", "Bulk", "Anomaly"]
    assert table.to_numpy().tolist() == [[3, 0, 1], [2, 1, 0], [1, 2, 0]]


def test_grid_revenue_sums_by_cell(customers):
    table = figures.grid_counts(customers, "revenue")
    # High · Bulk = 20000 + 15000; Low · Regular = 50 + 70 + 80
    assert table.loc["High", "Bulk"] == 35000.0
    assert table.loc["Low", "Regular"] == 200.0
    assert table.loc["Mid", "Anomaly"] == 0.0


def test_grid_figure_annotates_counts_labels_and_selection(customers):
    mask = selection_mask(customers, {"cluster": 2})
    fig = figures.value_style_grid(customers, mask=mask)
    heat = fig.data[0]
    assert list(heat.y) == ["Low", "Mid", "High"]
    assert np.asarray(heat.z).tolist() == [[3, 0, 1], [2, 1, 0], [1, 2, 0]]
    high_bulk = heat.text[2][1]
    assert "<b>2</b>" in high_bulk and "Key accounts" in high_bulk
    assert "selected: 2" in high_bulk  # both High · Bulk customers are cluster 2
    assert "selected: 0" in heat.text[0][0]


def _filled(template: str, z: float, text: str, currency: str) -> str:
    """A revenue cell's text as plotly fills its template (d3's ",.0f")."""
    return (
        template.replace(theme.CURRENCY_FIELD, currency)
        .replace("%{z:,.0f}", f"{z:,.0f}")
        .replace("%{text}", text)
    )


def test_revenue_grid_writes_the_chosen_currency_from_its_layout(customers):
    # rows Mid, High chosen: c05-c10 (Mid: 400 + 500 Regular, 900 Bulk)
    mask = customers[schema.CUSTOMER_ID].isin(["c05", "c07", "c09"])
    fig = figures.value_style_grid(customers, "revenue", mask, currency="€")
    heat = fig.data[0]
    assert fig.layout.meta == {"currency": "€"}
    high, bulk = list(heat.y).index("High"), list(heat.x).index("Bulk")
    assert heat.z[high][bulk] == 35000.0  # 20000 + 15000
    # c09 (20000) of High · Bulk's 35000 is selected: 57 %
    cell = _filled(heat.texttemplate, 35000.0, heat.text[high][bulk], "€")
    assert cell.startswith("<b>€35,000</b><br>")
    assert cell.endswith("<br>selected: 57 %")
    assert "Key accounts" in cell  # 270 px / 3 rows: room for the label
    # Mid · Regular: 400 of 900 selected (c05)
    mid, regular = list(heat.y).index("Mid"), list(heat.x).index("Regular")
    assert heat.text[mid][regular].endswith("selected: 44 %")
    assert heat.hovertext[high][bulk] == "20,000"  # the hover's selected amount
    assert "selected: " + theme.CURRENCY_FIELD + "%{hovertext}" in heat.hovertemplate
    assert heat.customdata[high][bulk] == "<b>High · Bulk</b><br><i>Key accounts</i>"


def test_revenue_grid_follows_a_currency_change_without_new_traces(customers):
    patch = figures.grid.currency_patch("$").to_plotly_json()
    assert patch["operations"] == [
        {
            "operation": "Assign",
            "location": ["layout", "meta", "currency"],
            "params": {"value": "$"},
        }
    ]
    plain = figures.value_style_grid(customers, "revenue")
    assert plain.layout.meta == {"currency": theme.CURRENCY}  # the server's default
    assert "selected" not in plain.data[0].hovertemplate  # no selection, no line
    assert all("selected" not in t for row in plain.data[0].text for t in row)


def test_grid_rejects_unknown_metric(customers):
    with pytest.raises(ValueError, match="metric='profit'"):
        figures.grid_counts(customers, "profit")


def tier_traces(fig):
    return [t for t in fig.data if t.meta]


def test_scatter_traces_per_tier_and_style_with_ids_in_customdata(customers):
    fig = go.Figure(figures.customer_scatter(customers))  # also validates it
    traces = tier_traces(fig)
    # cells present: Low·Regular, Low·Anomaly, Mid·Regular, Mid·Bulk, High·Regular,
    # High·Bulk
    assert [(t.meta["tier"], t.meta["style"]) for t in traces] == [
        ("Low", "Regular"),
        ("Low", "Anomaly"),
        ("Mid", "Regular"),
        ("Mid", "Bulk"),
        ("High", "Regular"),
        ("High", "Bulk"),
    ]
    assert all(t.type == "scattergl" for t in fig.data)
    high_bulk = traces[5]
    assert [row[0] for row in high_bulk.customdata] == ["c09", "c10"]
    assert high_bulk.marker.symbol == "square" and traces[1].marker.symbol == "x"
    assert traces[0].marker.color == theme.tier_colour(0, 3)
    # the tier legend is one legend-only circle per tier, top tier first
    assert not any(t.showlegend for t in traces)
    entries = [t for t in fig.data if not t.meta and t.legend != "legend2"]
    assert [t.name for t in entries] == ["High", "Mid", "Low"]
    assert {t.marker.symbol for t in entries} == {"circle"}
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert all(t.selectedpoints is None for t in traces)


def test_scatter_highlights_selected_points(customers):
    mask = selection_mask(customers, {"customer_ids": ["c02", "c09"]})
    fig = go.Figure(figures.customer_scatter(customers, mask=mask))
    chosen = {
        (t.meta["tier"], t.meta["style"]): list(t.selectedpoints)
        for t in tier_traces(fig)
    }
    assert chosen[("Low", "Regular")] == [1]  # c02 is Low·Regular's 2nd point
    assert chosen[("Mid", "Regular")] == []  # all dimmed
    assert chosen[("High", "Bulk")] == [0]  # c09
    assert tier_traces(fig)[0].unselected.marker.opacity == theme.DIMMED_OPACITY


def test_feature_profile_z_scores_by_hand(customers):
    z = figures.feature_profile(customers)
    freq = customers[schema.FREQUENCY]
    # High mean frequency = (20 + 30 + 25) / 3 = 25; overall mean = 92 / 10 = 9.2
    expected = (25 - 9.2) / freq.std(ddof=0)
    assert z.loc["High", schema.FREQUENCY] == pytest.approx(expected)
    assert z.attrs["means"].loc["High", schema.FREQUENCY] == pytest.approx(25)


def test_feature_heatmap_adds_a_selection_row(customers):
    mask = selection_mask(customers, {"cell": ["Mid", "Bulk"]})
    fig = figures.feature_heatmap(customers, mask=mask)
    assert list(fig.data[0].y) == ["Low", "Mid", "High", "Selection"]


def test_k_diagnostics_marks_recommended_and_chosen_k():
    table = pd.DataFrame(
        {
            "inertia": [9.0, 5.0, 4.0],
            "silhouette": [0.4, 0.5, 0.45],
            "davies_bouldin": [1.0, 0.8, 0.9],
            "calinski_harabasz": [100, 120, 110],
        },
        index=pd.Index([2, 3, 4], name="k"),
    )
    fig = figures.k_diagnostics(table, recommended_k=3, chosen_k=4)
    assert len(fig.data) == 4
    xs = sorted({shape.x0 for shape in fig.layout.shapes})
    assert xs == [3, 4]
    assert len(fig.layout.shapes) == 8  # two lines in each of four subplots


def test_chosen_k_patch_moves_only_the_chosen_lines():
    table = pd.DataFrame(
        {
            "inertia": [9.0, 5.0, 4.0],
            "silhouette": [0.4, 0.5, 0.45],
            "davies_bouldin": [1.0, 0.8, 0.9],
            "calinski_harabasz": [100, 120, 110],
        },
        index=pd.Index([2, 3, 4], name="k"),
    )
    for recommended in (3, None):
        fig = figures.k_diagnostics(table, recommended_k=recommended, chosen_k=4)
        moved = figures.k_diagnostics(table, recommended_k=recommended, chosen_k=2)
        # applying the patch's operations to the k=4 figure gives the k=2 figure
        shapes = [dict(s.to_plotly_json()) for s in fig.layout.shapes]
        for op in figures.chosen_k_patch(recommended, 2).to_plotly_json()["operations"]:
            assert op["operation"] == "Assign"
            _, _, index, key = op["location"]
            shapes[index][key] = op["params"]["value"]
        assert shapes == [s.to_plotly_json() for s in moved.layout.shapes]


def test_k_diagnostics_without_a_sweep_says_so():
    fig = figures.k_diagnostics(None, None, 3)
    assert "No k sweep" in fig.layout.annotations[0].text


def test_counts_read_singular_or_plural():
    from app import theme

    assert theme.fmt_count(1, "customer") == "1 customer"
    assert theme.fmt_count(1.4, "order") == "1 order"
    assert theme.fmt_count(2, "day") == "2 days"
    assert theme.fmt_count(4338, "customer") == "4,338 customers"


def ten_tier_customers() -> pd.DataFrame:
    """ROWS' 10 customers, each in a tier of its own (k = 10), labels kept."""
    return synthetic_customers().assign(
        **{
            schema.VALUE_CLUSTER: range(10),
            schema.VALUE_TIER: [f"T{i}" for i in range(10)],
        }
    )


def test_grid_labels_only_where_a_row_has_room(customers):
    three = figures.value_style_grid(customers).data[0]
    assert "Key accounts" in three.text[2][1]  # 270 px / 3 rows: room for it
    ten = figures.value_style_grid(ten_tier_customers()).data[0]
    # 270 px / 10 rows = 27 px: one 14 px line, the count only
    assert ten.text[9][1] == "<b>1</b>"  # c10 (tier T9) is Bulk
    assert "Key accounts" in ten.customdata[9][1]  # the label is in the hover
    assert "T9 · Bulk" in ten.customdata[9][1]
    chosen = figures.value_style_grid(
        ten_tier_customers(), mask=pd.Series([True] * 10)
    ).data[0]
    assert chosen.text[9][1] == "<b>1</b><br>selected: 1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.034, "0.03"),
        (7.5, "7.50"),
        (112.4, "112"),
        (7834, "7.8k"),
        (168478, "168k"),
        (999_950, "1.0M"),
        (1_234_567, "1.2M"),
        (-24236, "-24k"),
        (float("nan"), "–"),
    ],
)
def test_compact_numbers_fit_a_cell(value, expected):
    assert theme.fmt_compact(value) == expected


def test_feature_heatmap_text_is_compact_and_hover_is_full(customers):
    features, money = figures.feature_heatmap(customers, currency="£").data
    monetary = list(money.x).index("Total spent")
    # High monetary mean = (5000 + 20000 + 15000) / 3 = 13,333.33
    assert money.text[2][monetary] == "13k"
    assert money.customdata[2][monetary][0] == "13,333"
    assert money.customdata[2][monetary][1] == (
        "Total spent: all orders, returns deducted"
    )
    # each cell is drawn (and hovered) by one trace only
    assert features.z[2][monetary] is None and features.text[2][monetary] == ""
    assert money.z[2][monetary] is not None


def test_scatter_legends_fit_ten_tiers():
    fig = go.Figure(figures.customer_scatter(ten_tier_customers()))
    assert fig.layout.legend.tracegroupgap == 0  # no gap between tier groups
    styles = [t for t in fig.data if t.legend == "legend2"]
    assert [t.name for t in styles] == list(schema.PURCHASE_STYLES)
    assert fig.layout.legend2.orientation == "h"


def test_diagnostics_hover_explains_each_metric():
    table = pd.DataFrame(
        {
            "inertia": [9.0, 5.0],
            "silhouette": [0.4, 0.5],
            "davies_bouldin": [1.0, 0.8],
            "calinski_harabasz": [100, 120],
        },
        index=pd.Index([2, 3], name="k"),
    )
    hovers = [t.hovertemplate for t in figures.k_diagnostics(table, 3, 3).data]
    assert "lower is better" in hovers[2] and "higher is better" in hovers[1]
