"""The figures speak plain words and follow the page's Currency setting.

Every figure builder runs on the built-in sample; what a person reads in a
figure (titles, tick labels, hovers, legend and colour-bar titles, cell texts)
must hold no ``snake_case`` column name. Words and symbols are expected as
written here by hand. A currency change is a Patch of the figure on screen:
applied to a figure built for "£", it must give what a figure built for "$"
shows. Callbacks are called as functions (with Dash's callback context where
what triggered them matters).
"""

from __future__ import annotations

import json
import re
from contextvars import copy_context

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

import segmentation
from app import figures, glossary, storage, theme
from app.callbacks import currency as currency_cb
from app.callbacks import distributions as distributions_cb
from app.callbacks import download, panels, whatif
from app.callbacks import pca as pca_cb
from app.components.controls import CURRENCY_STORE
from app.figures import _base, distributions, pca, profile, scatter
from app.figures.holdout import holdout_figure
from app.figures.sankey import migration_sankey
from app.ids import WHATIF_FREQUENCY
from segmentation import schema
from segmentation.lifetime import LifetimeSettings

K = 4
PCT = 2
CURRENCY_PROP = f"{CURRENCY_STORE}.data"
#: The feature heatmap's columns and the distributions' features, in order.
FEATURE_NAMES = [
    "Days since last order",
    "Orders",
    "Total spent",
    "Average order value",
    "Units per order",
    "Units per line",
    "Different products",
    "Return rate",
    "Days since first order",
]
#: A word with an underscore inside: ``recency_days``, ``avg_order_value``.
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
#: Keys whose strings a person reads (the rest are ids, colours, references).
VISIBLE = {
    "text",
    "title",
    "ticktext",
    "hovertext",
    "hovertemplate",
    "texttemplate",
    "customdata",
    "label",
    "name",
    "x",
    "y",
    "categoryarray",
}
HIDDEN = {"meta", "template", "legendgroup", "font", "line", "marker"}


# fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared():
    return segmentation.prepare(
        segmentation.load_sample(),
        filename=segmentation.SAMPLE_NAME,
        lifetime=LifetimeSettings(holdout_days=60),
        compare_days=30,
    )


@pytest.fixture(scope="module")
def run(prepared):
    return segmentation.segment(prepared, K, anomaly_share=PCT / 100)


@pytest.fixture(scope="module")
def customers(run):
    return run.customers


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    store = storage.configure(tmp_path_factory.mktemp("data"))
    sha = store.accept_upload(segmentation.load_sample(), "sample.csv")
    return {"id": sha, "filename": "sample.csv", "mapping": None}


@pytest.fixture(scope="module")
def euro_dataset(dataset):
    """The sample's rows with a price header that names the euro."""
    data = segmentation.load_sample().replace(b"UnitPrice", "Price €".encode(), 1)
    sha = storage.get_store().accept_upload(data, "shop.csv")
    return {"id": sha, "filename": "shop.csv", "mapping": None}


def every_figure(prepared, run) -> dict[str, dict]:
    """Every figure builder on the sample, as plain figure data."""
    customers = run.customers
    mask = pd.Series(np.arange(len(customers)) % 3 == 0, index=customers.index)
    diag = prepared.diagnostics
    drawn = {
        "grid": figures.value_style_grid(customers),
        "grid revenue": figures.value_style_grid(customers, "revenue", mask),
        "scatter": figures.customer_scatter(
            customers, mask, whatif={"frequency": 3, "monetary": 900.0}
        ),
        "pca": pca.pca_scatter(customers, mask),
        "heatmap": figures.feature_heatmap(customers, mask),
        "distributions": distributions.feature_distributions(customers, mask),
        "rf grid": figures.rf_grid(customers, "customers", mask),
        "rf grid revenue": figures.rf_grid(customers, "revenue", mask),
        "k diagnostics": figures.k_diagnostics(
            diag.table, diag.recommended_k, K, diag.votes
        ),
        "holdout": holdout_figure(run.lifetime.report["holdout"]),
        "sankey": migration_sankey(
            run.migration.report,
            _base.tier_order(customers),
            _base.tier_colours(customers),
        ),
        "placeholder": figures.placeholder("Upload a file to begin"),
    }
    return {name: plain(fig) for name, fig in drawn.items()}


def visible_strings(node, key=None, seen=False):
    """Yield every string a person can read in a figure's data (see VISIBLE)."""
    if key in HIDDEN:
        return
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from visible_strings(child, child_key, seen or child_key in VISIBLE)
    elif isinstance(node, (list, tuple, np.ndarray)):
        for child in node:
            yield from visible_strings(child, key, seen)
    elif isinstance(node, str) and seen:
        yield node


def readable(text: str) -> str:
    """Drop template fields (``%{customdata[0]}``) and HTML tags from a text."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"%\{[^}]*\}", " ", text))


def hover(template: str, figure) -> str:
    """Fill a hover template's currency field as plotly does, from layout.meta."""
    layout = figure["layout"] if isinstance(figure, dict) else figure.layout
    meta = layout["meta"]
    return template.replace(theme.CURRENCY_FIELD, meta[theme.CURRENCY_META])


def plain(figure) -> dict:
    """Return a figure (dict or go.Figure) as JSON data, as the browser gets it."""
    return json.loads(plotly.io.to_json(go.Figure(figure), validate=False))


def applied(figure, patch) -> dict:
    """Return ``figure`` (plain data) with the Assign operations of ``patch``."""
    figure = plain(figure)
    for operation in patch.to_plotly_json()["operations"]:
        assert operation["operation"] == "Assign", operation
        *path, last = operation["location"]
        node = figure
        for step in path:
            if isinstance(node, dict):
                node = node.setdefault(step, {})
            else:
                node = node[step]
        node[last] = operation["params"]["value"]
    return figure


def triggered(prop_ids, func, *args):
    """Run ``func(*args)`` as if Dash had called it for ``prop_ids``."""

    def call():
        context_value.set(
            AttributeDict(
                triggered_inputs=[{"prop_id": p, "value": 1} for p in prop_ids]
            )
        )
        return func(*args)

    return copy_context().run(call)


def point_traces(figure) -> list[dict]:
    return [t for t in figure["data"] if t.get("meta")]


# no snake_case anywhere ------------------------------------------------------------


def test_no_figure_shows_a_snake_case_name(prepared, run):
    schema_names = {
        value
        for value in vars(schema).values()
        if isinstance(value, str) and "_" in value
    }
    assert {"recency_days", "avg_order_value", "value_tier"} <= schema_names
    for name, figure in every_figure(prepared, run).items():
        texts = [readable(s) for s in visible_strings(figure)]
        assert texts, name
        words = {w for text in texts for w in SNAKE.findall(text)}
        assert not words, f"{name} shows {sorted(words)}"
        shown = " ".join(texts)
        for column in schema_names:
            assert not re.search(rf"\b{column}\b", shown), (name, column)


def test_the_snake_case_check_catches_a_column_name():
    figure = {"layout": {"xaxis": {"title": {"text": "recency_days"}}}}
    texts = [readable(s) for s in visible_strings(figure)]
    assert texts == ["recency_days"]
    assert SNAKE.findall(texts[0]) == ["recency_days"]
    hidden = {"layout": {"meta": {"features": ["recency_days"]}}}
    assert list(visible_strings(hidden)) == []


# the scatter ------------------------------------------------------------------------


def test_scatter_axes_and_legends_speak_plain_words(customers):
    layout = figures.customer_scatter(customers, currency="£")["layout"]
    assert layout["xaxis"]["title"]["text"] == "Orders (log scale)"
    assert layout["yaxis"]["title"]["text"] == "Spend (£, log scale)"
    assert layout["legend"]["title"]["text"] == "Value tier"
    assert layout["legend2"]["title"]["text"] == "Purchase style:"


def test_scatter_hover_says_the_chosen_currency(customers):
    figure = figures.customer_scatter(customers, currency="$")
    assert figure["layout"]["yaxis"]["title"]["text"] == "Spend ($, log scale)"
    first = point_traces(figure)[0]
    text = hover(first["hovertemplate"], figure)
    assert "Total spent: $%{y:,.0f}" in text
    assert "Orders: %{x:,}" in text
    assert "Last order: %{customdata[1]} ago" in text
    assert "monetary" not in text and "frequency" not in text
    none = figures.customer_scatter(customers, currency="")
    assert none["layout"]["yaxis"]["title"]["text"] == "Spend (log scale)"
    assert "Total spent: %{y:,.0f}" in hover(
        point_traces(none)[0]["hovertemplate"], none
    )


def test_scatter_hover_reads_the_symbol_from_the_layout_only(customers):
    # the per-k traces the browser keeps (assets/k_views.js) carry no symbol
    pound = figures.customer_scatter(customers, currency="£")
    dollar = figures.customer_scatter(customers, currency="$")
    assert pound["data"] == dollar["data"]
    traces = scatter.tier_traces(customers)
    assert all("£" not in t.get("hovertemplate", "") for t in traces)


def test_a_currency_patch_gives_the_figure_built_for_that_currency(customers):
    star = {"frequency": 3, "monetary": 1250.0}
    pound = figures.customer_scatter(customers, whatif=star, currency="£")
    patched = applied(pound, scatter.currency_patch("$", star))
    dollar = plain(figures.customer_scatter(customers, whatif=star, currency="$"))
    for key in ("meta", "yaxis", "annotations"):
        assert patched["layout"][key] == dollar["layout"][key], key
    star_hover = patched["layout"]["annotations"][scatter.WHATIF_SLOTS[0]]
    assert (
        star_hover["hovertext"] == "What-if customer: 3 orders, $1,250 spent in total"
    )
    assert patched["data"] == plain(pound)["data"]


def test_a_currency_patch_reaches_the_placeholder_slots():
    placeholder = scatter.scatter_placeholder("Drawing the customers…")
    patched = applied(placeholder, scatter.currency_patch("€", None))
    assert patched["layout"]["meta"] == {"currency": "€"}
    assert patched["layout"]["annotations"][2]["text"] == "Drawing the customers…"


def test_what_if_star_says_one_order():
    (star, _label) = scatter.whatif_annotations(
        {"frequency": 1, "monetary": 80.5}, currency="€"
    )
    assert star["hovertext"] == "What-if customer: 1 order, €80 spent in total"


# the feature heatmap ----------------------------------------------------------------


def test_heatmap_columns_are_display_names(customers):
    figure = figures.feature_heatmap(customers)
    for trace in figure.data:
        assert list(trace.x) == FEATURE_NAMES
    assert list(figure.layout.xaxis.categoryarray) == FEATURE_NAMES
    assert figure.data[0].colorbar.title.text == "SDs from<br>all customers"


def test_heatmap_money_hover_says_the_currency(customers):
    figure = figures.feature_heatmap(customers, currency="€")
    features, money = figure.data
    assert hover(money.hovertemplate, figure).startswith(
        "<b>%{y}</b> · %{x}<br>mean €%{customdata[0]} "
    )
    assert "€" not in hover(features.hovertemplate, figure)
    # the money trace draws exactly Total spent and Average order value
    drawn = [FEATURE_NAMES[i] for i, v in enumerate(money.z[0]) if v is not None]
    assert drawn == ["Total spent", "Average order value"]
    patched = applied(figure, profile.currency_patch("$"))
    assert patched["layout"]["meta"] == {"currency": "$"}
    assert patched["data"] == plain(figure)["data"]


def test_heatmap_hover_help_is_plain():
    assert glossary.feature_help(schema.RECENCY_DAYS) == (
        "Days since last order (fewer = bought more recently)"
    )
    assert glossary.feature_help("first_seen") == "First seen"


# distributions, PCA, RF grid, diagnostics, holdout, sankey ------------------------


def test_distribution_titles_carry_units_and_the_currency(customers):
    figure = distributions.feature_distributions(customers, currency="£")
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert titles == [
        "<b>Days since last order</b>",
        "<b>Orders</b>",
        "<b>Total spent (£)</b>",
        "<b>Average order value (£)</b>",
        "<b>Units per order</b>",
        "<b>Units per line</b>",
        "<b>Different products</b>",
        "<b>Return rate (0 to 1)</b>",
        "<b>Days since first order</b>",
    ]
    by_feature = {}
    for trace in figure["data"]:
        by_feature.setdefault(trace["meta"]["feature"], trace)
    spent = hover(by_feature[schema.MONETARY]["hovertemplate"], figure)
    assert "median £%{median:,.2f}" in spent and "mean £%{mean:,.2f}" in spent
    orders = hover(by_feature[schema.FREQUENCY]["hovertemplate"], figure)
    assert "median %{median:,.2f}" in orders and "£" not in orders


def test_pca_hover_and_patch_follow_the_currency(customers):
    figure = pca.pca_scatter(customers, currency="$")
    text = hover(figure["data"][0]["hovertemplate"], figure)
    assert "Total spent: $%{customdata[2]:,.0f}" in text
    assert "Orders: %{customdata[1]:,}" in text
    assert figure["layout"]["legend"]["title"]["text"] == "Value tier"
    patched = applied(figure, pca.currency_patch("€"))
    assert patched["layout"]["meta"]["currency"] == "€"
    assert patched["layout"]["meta"]["loadings"] == figure["layout"]["meta"]["loadings"]


def test_rf_grid_revenue_is_written_in_the_currency(customers):
    figure = figures.rf_grid(customers, "revenue", currency="$")
    top = customers[(customers[schema.R_SCORE] == 5) & (customers[schema.F_SCORE] == 5)]
    expected = f"${top[schema.MONETARY].sum():,.0f}"
    assert figure.data[0].text[4][4].endswith(f"<b>{expected}</b>")
    assert "£" not in " ".join(t for row in figure.data[0].text for t in row)


def test_k_diagnostics_names_its_x_axis(prepared):
    diag = prepared.diagnostics
    figure = figures.k_diagnostics(diag.table, diag.recommended_k, K, diag.votes)
    last_row = [
        figure.layout[name].title.text
        for name in figure.layout
        if name.startswith("xaxis") and figure.layout[name].title.text
    ]
    assert last_row == ["k (number of value tiers)"]


def test_holdout_and_sankey_words(run):
    holdout = holdout_figure(run.lifetime.report["holdout"])
    assert holdout.layout.xaxis.title.text == "Repeat orders before the held-out days"
    assert holdout.layout.yaxis.title.text == "Orders in the held-out days"
    customers = run.customers
    sankey = migration_sankey(
        run.migration.report,
        _base.tier_order(customers),
        _base.tier_colours(customers),
        currency="$",
    )
    hovers = list(sankey.data[0].link.customdata)
    directions = {m["direction"] for m in run.migration.report["moves"]}
    assert directions == {"in", "up", "same"}  # the sample: nobody moved down
    assert any(
        "moved to a higher tier; revenue of the whole move $" in h for h in hovers
    )
    assert any("<br>new customers; " in h for h in hovers)
    assert any("stayed in the same tier" in h for h in hovers)
    assert not any(re.search(r"<br>(down|up|same|in);", h) for h in hovers)


# callbacks, called as functions ------------------------------------------------------


def test_panels_follow_the_currency_store(dataset):
    _grid, drawn, heatmap, _cards = panels.render_requested(
        1, dataset, K, PCT, None, "customers", None, None, "$"
    )
    assert drawn["layout"]["yaxis"]["title"]["text"] == "Spend ($, log scale)"
    assert drawn["layout"]["meta"]["currency"] == "$"
    assert heatmap.layout.meta["currency"] == "$"
    revenue = panels.render_requested(
        1, dataset, K, PCT, None, "revenue", None, None, "$"
    )[0]
    assert revenue.layout.meta["currency"] == "$"
    assert revenue.data[0].texttemplate.startswith("<b>" + theme.CURRENCY_FIELD)


def test_a_currency_change_alone_patches_the_panels(dataset):
    star = {"frequency": 2, "monetary": 300.0, "dataset": dataset["id"]}
    out = triggered(
        [CURRENCY_PROP],
        panels.render_requested,
        1,
        dataset,
        K,
        PCT,
        None,
        "customers",
        star,
        None,
        "€",
    )
    grid, drawn, heatmap, cards = out
    assert cards is no_update
    # the grid keeps its cells: only the symbol its revenue templates read
    assert [op["location"] for op in grid.to_plotly_json()["operations"]] == [
        ["layout", "meta", "currency"]
    ]
    assert applied({"data": [], "layout": {}}, grid)["layout"]["meta"] == {
        "currency": "€"
    }
    shown = panels.render_panels(dataset, K, PCT, None, "customers", star, None, "£")[1]
    patched = applied(shown, drawn)
    assert patched["layout"]["yaxis"]["title"]["text"] == "Spend (€, log scale)"
    assert patched["layout"]["meta"]["currency"] == "€"
    star_hover = patched["layout"]["annotations"][0]["hovertext"]
    assert star_hover == "What-if customer: 2 orders, €300 spent in total"
    assert applied({"data": [], "layout": {}}, heatmap)["layout"]["meta"] == {
        "currency": "€"
    }
    # with the dataset changing too, the panels are drawn whole
    both = triggered(
        [CURRENCY_PROP, "panels-request.data"],
        panels.render_requested,
        1,
        dataset,
        K,
        PCT,
        None,
        "customers",
        None,
        None,
        "€",
    )
    assert both[1]["layout"]["yaxis"]["title"]["text"] == "Spend (€, log scale)"
    assert both[0] is not no_update


def test_the_rf_grid_callback_writes_revenue_in_the_currency(dataset):
    figure = panels.render_rf_grid(dataset, K, PCT, None, "revenue", "$")
    cells = " ".join(t for row in figure.data[0].text for t in row)
    assert "$" in cells and "£" not in cells


def test_the_first_screen_uses_the_files_currency(dataset, euro_dataset):
    # "As in the file": the price column's header says "Price €"
    drawn = panels.first_panels(euro_dataset, K, PCT)
    figure = drawn[("customer-scatter", "figure")]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Spend (€, log scale)"
    assert figure["layout"]["meta"]["currency"] == "€"
    # the same rows with the plain header state no currency
    other = panels.first_panels(dataset, K, PCT)[("customer-scatter", "figure")]
    assert other["layout"]["yaxis"]["title"]["text"] == "Spend (log scale)"


def test_distributions_callback_follows_the_currency(dataset):
    whole = distributions_cb.render_distributions(dataset, K, PCT, None, "$")
    assert whole["layout"]["annotations"][2]["text"] == "<b>Total spent ($)</b>"
    # the currency alone: the figure again (its placeholder has no title slots)
    again = triggered(
        [CURRENCY_PROP],
        distributions_cb.render_distributions,
        dataset,
        K,
        PCT,
        None,
        "€",
    )
    assert again["layout"]["annotations"][2]["text"] == "<b>Total spent (€)</b>"
    assert again["layout"]["meta"]["currency"] == "€"
    # the boxes are the same; their hovers read the symbol from layout.meta
    assert plain(again)["data"] == plain(whole)["data"]


def test_pca_callback_follows_the_currency(dataset):
    whole = pca_cb.render_pca(dataset, K, PCT, None, "pca", "$")
    assert whole["layout"]["meta"]["currency"] == "$"
    patch = triggered(
        [CURRENCY_PROP], pca_cb.render_pca, dataset, K, PCT, None, "pca", "€"
    )
    assert applied(whole, patch)["layout"]["meta"]["currency"] == "€"
    hidden = triggered(
        [CURRENCY_PROP], pca_cb.render_pca, dataset, K, PCT, None, "fm", "€"
    )
    assert hidden is no_update


def test_changed_alone_is_false_outside_a_callback():
    assert currency_cb.changed_alone() is False
    assert triggered([CURRENCY_PROP], currency_cb.changed_alone) is True
    assert (
        triggered([CURRENCY_PROP, "k-slider.value"], currency_cb.changed_alone) is False
    )


def test_html_report_download_uses_the_pages_currency(dataset):
    sent = download.download_html_report(1, dataset, K, PCT, "$")
    page = sent["content"]
    assert re.search(r"\$\d{1,3}(,\d{3})*", page)
    assert "£" not in page
    pound = download.download_html_report(1, dataset, K, PCT, "£")["content"]
    assert re.search(r"£\d{1,3}(,\d{3})*", pound)


def test_a_star_typed_after_a_currency_change_says_that_currency(dataset):
    _answer, point, star = triggered(
        [f"{WHATIF_FREQUENCY}.value"],
        whatif.update_whatif,
        30,
        4,
        1500,
        dataset,
        K,
        PCT,
        None,
        "€",
    )
    assert point["frequency"] == 4 and point["monetary"] == 1500
    patched = applied(scatter.scatter_placeholder("…"), star)
    assert patched["layout"]["annotations"][0]["hovertext"] == (
        "What-if customer: 4 orders, €1,500 spent in total"
    )
