"""The app's method choice, comparison, PCA view and distributions, as functions.

Callbacks are called as plain functions on the built-in sample; expectations
come from the engine called directly (not through the app), from numpy, or by
hand.
"""

from __future__ import annotations

import json
from contextvars import copy_context

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

import segmentation
from app import ids, storage, theme
from app.callbacks import distributions as distributions_cb
from app.callbacks import download, methods, panels, view_url
from app.callbacks import pca as pca_cb
from app.callbacks.common import current_segmentation
from app.components.methods import (
    K_LABEL_HDBSCAN,
    K_LABEL_TIERS,
    METHOD_CHOICE,
    comparison_table,
)
from app.figures import _base
from app.figures.distributions import (
    DISTRIBUTION_FEATURES,
    SELECTION_NAME,
    box_stats,
    feature_distributions,
)
from app.figures.pca import (
    PCA_VIEW,
    pca_region_mask,
    pca_scatter,
    pca_xy,
    projection_of,
)
from app.selection import selection_mask
from segmentation import pipeline, schema
from tests.dash_text import text_of

PCT = 2
K = 4


def triggered(prop_id, func, *args, value=1):
    """Run ``func(*args)`` as if Dash had called it for ``prop_id``."""

    def run():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}])
        )
        return func(*args)

    return copy_context().run(run)


@pytest.fixture(scope="module")
def prepared():
    return segmentation.prepare(
        segmentation.load_sample(), filename=segmentation.SAMPLE_NAME
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    store = storage.configure(tmp_path_factory.mktemp("data"))
    sha = store.accept_upload(segmentation.load_sample(), "sample.csv")
    return {"id": sha, "filename": "sample.csv", "mapping": None}


def choose(method, dataset):
    """The dataset store after choosing ``method`` on the radio buttons."""
    out, buttons = triggered(
        f"{METHOD_CHOICE}.value", methods.follow_method, method, dataset
    )
    assert buttons is no_update
    return out


# the method reaches the panels and the store ------------------------------------
def test_gmm_changes_the_tiers_and_the_store_key(dataset, prepared):
    gmm = choose("gmm", dataset)
    assert gmm == {**dataset, "method": "gmm"}
    counts = {}
    for shown in (dataset, gmm):
        customers = current_segmentation(shown, K, PCT).customers
        counts[shown.get("method", "kmeans")] = (
            customers[schema.VALUE_TIER].value_counts().to_dict()
        )
    # the engine by itself, without the app
    for method in ("kmeans", "gmm"):
        alone = pipeline.segment(prepared, K, method=method, anomaly_share=PCT / 100)
        assert (
            counts[method]
            == alone.customers[schema.VALUE_TIER].value_counts().to_dict()
        )
    assert counts["gmm"] != counts["kmeans"]
    keys = [
        k for k in storage.get_store().cache if k[0] == "segmentation" and k[3] == K
    ]
    assert ("method", "gmm") in {k[-1] for k in keys}
    assert any(k[-1] != ("method", "gmm") for k in keys)  # k-means: the old key
    # the grid drawn by the panels callback follows
    grid_k = panels.render_panels(dataset, K, PCT, None, "customers")[0]
    grid_g = panels.render_panels(gmm, K, PCT, None, "customers")[0]
    assert (
        np.asarray(go.Figure(grid_k).data[0].z).tolist()
        != np.asarray(go.Figure(grid_g).data[0].z).tolist()
    )


def test_method_key_keeps_old_keys_and_refuses_unknown():
    assert storage.method_key(None) == storage.method_key("kmeans") == ()
    assert storage.method_key("ward") == (("method", "ward"),)
    with pytest.raises(segmentation.SegmentationError, match=r"dbscan.*kmeans, gmm"):
        storage.method_key("dbscan")


@pytest.mark.parametrize(
    ("trigger", "chosen", "shown", "expected_store", "expected_buttons"),
    [
        # choosing a method puts it in the store; choosing k-means again too
        ("method", "ward", None, "ward", None),
        ("method", "kmeans", "gmm", "kmeans", None),
        # the store already shows the choice: nothing to do
        ("method", "gmm", "gmm", None, None),
        ("method", "kmeans", None, None, None),
        # a saved run names its method: the buttons follow it
        ("dataset", "gmm", "kmeans", None, "kmeans"),
        ("dataset", "kmeans", "hdbscan", None, "hdbscan"),
        # a new file (no method) is shown with the method chosen
        ("dataset", "hdbscan", None, "hdbscan", None),
        ("dataset", "kmeans", None, None, None),
    ],
)
def test_follow_method(trigger, chosen, shown, expected_store, expected_buttons):
    store = {"id": "a" * 64, "filename": "x.csv", "mapping": None}
    if shown:
        store["method"] = shown
    prop = (
        f"{METHOD_CHOICE}.value" if trigger == "method" else f"{ids.DATASET_STORE}.data"
    )
    out, buttons = triggered(prop, methods.follow_method, chosen, store)
    if expected_store is None:
        assert out is no_update
    else:
        assert out == {**store, "method": expected_store}
    assert buttons == (no_update if expected_buttons is None else expected_buttons)


def test_follow_method_without_a_dataset_does_nothing():
    with pytest.raises(PreventUpdate):
        triggered(f"{METHOD_CHOICE}.value", methods.follow_method, "gmm", None)


def test_hdbscan_shows_unclustered_in_grey_and_says_what_k_means(dataset, prepared):
    shown = choose("hdbscan", dataset)
    customers = current_segmentation(shown, K, PCT).customers
    alone = pipeline.segment(prepared, K, method="hdbscan", anomaly_share=PCT / 100)
    left = int((alone.customers[schema.VALUE_CLUSTER] == -1).sum())
    assert left > 0
    assert (customers[schema.VALUE_TIER] == "Unclustered").sum() == left
    colours = _base.tier_colours(customers)
    assert colours["Unclustered"] == theme.UNCLUSTERED_COLOUR
    top = customers[schema.VALUE_CLUSTER].max()
    top_name = customers.loc[customers[schema.VALUE_CLUSTER] == top, schema.VALUE_TIER]
    assert colours[top_name.iloc[0]] != theme.UNCLUSTERED_COLOUR
    help_line, label = methods.method_help("hdbscan", shown, K, PCT)
    assert label == K_LABEL_HDBSCAN
    said = text_of(help_line)
    assert f"{left} customers Unclustered" in said
    assert f"{alone.value_model.n_tiers_} tiers found" in said
    assert methods.method_help("gmm", dataset, K, PCT)[1] == K_LABEL_TIERS


def test_warm_up_segments_the_chosen_method(dataset):
    shown = choose("ward", dataset)
    warm = panels.segment_every_k(shown, PCT)
    store = storage.get_store()
    for k in warm["k"]:
        key = ("segmentation", dataset["id"], (), k, PCT / 100, storage.SEED)
        assert (*key, ("method", "ward")) in store.cache


# the comparison -----------------------------------------------------------------
def test_comparison_job_table_rule_and_button(dataset, prepared):
    gmm = choose("gmm", dataset)
    table, rule, store = methods.compare_at_k(None, K, gmm)
    alone = pipeline.compare(prepared, K)
    assert store == {"dataset": dataset["id"], "k": K, "recommended": alone.recommended}
    assert alone.rule in rule
    text = text_of(table)
    for label in ("k-means", "Gaussian mixture", "Ward", "HDBSCAN"):
        assert label in text
    silhouette = alone.table.loc["ward", "silhouette"]
    assert f"{silhouette:.2f}" in text
    rows = table.children[1].children
    assert len(rows) == 4
    marked = {getattr(r, "data-method"): r.className for r in rows}
    assert "shown" in marked["gmm"]
    assert "recommended" in marked[alone.recommended]
    label, disabled = methods.recommended_method_button(store, "gmm", gmm, K)
    assert disabled == (alone.recommended == "gmm")
    assert label.startswith("Use recommended method: ")
    assert methods.use_recommended_method(1, store) == alone.recommended
    # another k: the button waits for that k's comparison
    assert methods.recommended_method_button(store, "gmm", gmm, K + 1)[1] is True
    with pytest.raises(PreventUpdate):
        methods.use_recommended_method(None, store)


def test_comparison_table_says_a_fallback():
    comparison = {
        "recommended": "kmeans",
        "table": [
            {"method": "kmeans", "kept": "kmeans", "monotone": True, "tiers": 3},
            {"method": "gmm", "kept": "value_score", "monotone": True, "tiers": 3},
        ],
    }
    text = text_of(comparison_table(comparison, "gmm"))
    assert "fell back to value_score" in text


# downloads name the method ------------------------------------------------------
def test_report_names_the_method_with_its_stability_and_comparison(dataset, prepared):
    ward = choose("ward", dataset)
    answer = download.download_report(1, ward, K, PCT)
    assert answer["filename"] == f"sample_k{K}_ward_run.json"
    report = json.loads(answer["content"])
    assert report["method"] == "ward"
    alone = pipeline.segment(
        prepared, K, method="ward", anomaly_share=PCT / 100, with_stability=True
    )
    assert report["stability"] == pytest.approx(alone.stability)
    compared = report["method_comparison"]
    assert [row["method"] for row in compared["table"]] == list(
        segmentation.settings.METHODS
    )
    csv = download.download_customers(1, "all", ward, K, PCT, None)
    assert csv["filename"] == f"sample_k{K}_ward_customers.csv"
    plain = download.download_customers(1, "all", dataset, K, PCT, None)
    assert plain["filename"] == f"sample_k{K}_customers.csv"


def test_address_method_is_checked():
    assert view_url._method_of("hdbscan") == "hdbscan"
    for bad in (None, "", "dbscan", "KMEANS", "gmm;drop"):
        assert view_url._method_of(bad) is None


# the PCA view -------------------------------------------------------------------
def _svd_by_hand(customers):
    """Explained variance shares and scores from numpy alone (sign of sklearn's)."""
    logged = np.log1p(customers[list(schema.VALUE_FEATURES)].to_numpy(float))
    z = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    _, s, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
    return s**2 / (s**2).sum(), z, vt


def test_pca_axis_titles_carry_the_explained_variance(dataset):
    customers = current_segmentation(dataset, K, PCT).customers
    ratios, z, vt = _svd_by_hand(customers)
    figure = pca_cb.render_pca(dataset, K, PCT, None, "pca")
    layout = go.Figure(figure).layout
    assert layout.xaxis.title.text == f"PC1 ({100 * ratios[0]:.0f} % of variance)"
    assert layout.yaxis.title.text == f"PC2 ({100 * ratios[1]:.0f} % of variance)"
    assert layout.meta["explained"] == pytest.approx(ratios.tolist())
    # every point where numpy puts it (up to the sign of each axis)
    scores = z @ vt.T
    by_id = dict(zip(customers[schema.CUSTOMER_ID].astype(str), scores, strict=True))
    for trace in figure["data"]:
        for x, y, custom in zip(
            trace["x"], trace["y"], trace["customdata"], strict=True
        ):
            px, py = by_id[custom[0]]
            assert abs(x) == pytest.approx(abs(px), abs=1e-3)
            assert abs(y) == pytest.approx(abs(py), abs=1e-3)
    loadings = layout.meta["loadings"]
    assert loadings[0].startswith("PC1 = 0.71 × log orders + 0.71 × log spend")
    assert "PC1 = " in figure["data"][0]["hovertemplate"]


def test_pca_view_is_drawn_only_when_shown(dataset):
    assert pca_cb.render_pca(dataset, K, PCT, None, "fm") is no_update


def _three_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.CUSTOMER_ID: ["a", "b", "c"],
            schema.FREQUENCY: [1.0, 4.0, 30.0],
            schema.MONETARY: [50.0, 20.0, 900.0],
        }
    )


def test_a_lasso_on_the_pca_view_selects_the_customers_inside():
    customers = _three_customers()
    _, z, vt = _svd_by_hand(customers)
    x, y = pca_xy(customers, projection_of(customers))
    hand = z @ vt.T
    assert np.abs(x) == pytest.approx(np.abs(hand[:, 0]))
    assert np.abs(y) == pytest.approx(np.abs(hand[:, 1]))
    # a triangle around a and b (drawn on the view's coordinates), far from c
    (ax, ay), (bx, by), (cx, cy) = zip(x, y, strict=True)
    mid = np.array([(ax + bx) / 2, (ay + by) / 2])
    away = np.array([ax - bx, ay - by])
    side = np.array([-away[1], away[0]]) * 0.3
    corners = [mid + 1.5 * away + side, mid - 1.5 * away + side, mid - side]
    lasso = {"lasso": {"x": [c[0] for c in corners], "y": [c[1] for c in corners]}}
    inside = pca_region_mask(customers, lasso)
    assert inside.tolist() == [True, True, False]
    # the selection store's region, marked as drawn on the PCA view
    mask = selection_mask(customers, {"region": lasso, "view": PCA_VIEW})
    assert mask.tolist() == [True, True, False]
    # a box around c only
    box = {"box": {"x": [cx - 0.01, cx + 0.01], "y": [cy - 0.01, cy + 0.01]}}
    assert pca_region_mask(customers, box).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="not a box or lasso"):
        pca_region_mask(customers, {"circle": {}})


def test_a_lasso_on_the_pca_view_sets_the_selection(dataset, monkeypatch):
    customers = current_segmentation(dataset, K, PCT).customers
    picked = customers[schema.CUSTOMER_ID].astype(str).iloc[:3].tolist()
    selected = {
        "points": [{"customdata": [c, 1, 2]} for c in picked],
        "lassoPoints": {"x": [0, 1, 1], "y": [0, 0, 1]},
    }
    chosen = pca_cb.select_on_pca(selected, dataset, K, PCT, None)
    assert chosen == {"customer_ids": picked, "view": PCA_VIEW}
    assert int(selection_mask(customers, chosen).sum()) == 3
    # drawn on the view: the view is not redrawn for it
    assert (
        triggered(
            f"{ids.SELECTION_STORE}.data",
            pca_cb.render_pca,
            dataset,
            K,
            PCT,
            chosen,
            "pca",
        )
        is no_update
    )
    # an empty lasso clears only a selection drawn on the view
    assert pca_cb.select_on_pca({"points": []}, dataset, K, PCT, chosen) is None
    assert pca_cb.select_on_pca(None, dataset, K, PCT, {"cluster": 1}) is no_update
    # a sampled view (many customers) selects everyone inside the shape
    monkeypatch.setattr(pca_cb, "is_sampled", lambda _customers: True)
    region = pca_cb.select_on_pca(selected, dataset, K, PCT, None)
    assert region == {"region": {"lasso": selected["lassoPoints"]}, "view": PCA_VIEW}


def test_leaving_the_pca_view_clears_its_selection():
    drawn = {"customer_ids": ["1"], "view": PCA_VIEW}
    assert pca_cb.show_axes("fm", drawn) == (
        {"display": "block"},
        {"display": "none"},
        None,
    )
    assert pca_cb.show_axes("pca", drawn)[2] is no_update
    assert pca_cb.show_axes("fm", {"cell": ["High", "Bulk"]})[2] is no_update


def test_pca_scatter_highlights_a_selection(dataset):
    customers = current_segmentation(dataset, K, PCT).customers
    mask = customers[schema.FREQUENCY] >= 10
    figure = pca_scatter(customers, mask)
    chosen = sum(len(t["selectedpoints"]) for t in figure["data"])
    assert chosen == int(mask.sum())
    assert sum(len(t["x"]) for t in figure["data"]) == len(customers)


# distributions ------------------------------------------------------------------
def test_box_stats_by_hand():
    stats = box_stats(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    # q1 2, median 3, q3 4; whiskers within 1.5 * 2 = 3 of the box: 1 and 4
    assert stats == {
        "q1": 2.0,
        "median": 3.0,
        "q3": 4.0,
        "mean": 22.0,
        "lowerfence": 1.0,
        "upperfence": 4.0,
        "n": 5,
    }


def test_one_box_per_tier_per_feature_and_the_selection_beside(dataset):
    customers = current_segmentation(dataset, K, PCT).customers
    figure = distributions_cb.render_distributions(dataset, K, PCT, None)
    tiers = customers[schema.VALUE_TIER].unique()
    boxes = [t for t in figure["data"] if t["type"] == "box"]
    assert len(boxes) == len(tiers) * len(DISTRIBUTION_FEATURES)
    pairs = {(t["meta"]["feature"], t["meta"]["tier"]) for t in boxes}
    assert pairs == {(f, t) for f in DISTRIBUTION_FEATURES for t in tiers}
    # the median of one box, against pandas
    box = next(
        t for t in boxes if t["meta"] == {"feature": schema.MONETARY, "tier": tiers[0]}
    )
    expected = customers.loc[customers[schema.VALUE_TIER] == tiers[0], schema.MONETARY]
    assert box["median"] == [pytest.approx(expected.median())]
    go.Figure(figure)  # valid plotly
    # a selection: one more trace per feature, one box per tier it touches
    selection = {"cluster": int(customers[schema.VALUE_CLUSTER].max())}
    chosen = distributions_cb.render_distributions(dataset, K, PCT, selection)
    extra = [t for t in chosen["data"] if t["meta"].get("selection")]
    assert len(extra) == len(DISTRIBUTION_FEATURES)
    top = customers.loc[
        customers[schema.VALUE_CLUSTER] == selection["cluster"], schema.VALUE_TIER
    ].iloc[0]
    assert all(t["x"] == [top] and t["name"] == SELECTION_NAME for t in extra)


def test_distributions_on_hdbscan_include_unclustered(dataset):
    shown = choose("hdbscan", dataset)
    figure = feature_distributions(current_segmentation(shown, K, PCT).customers)
    tiers = {t["meta"]["tier"] for t in figure["data"]}
    assert "Unclustered" in tiers
    grey = {
        t["marker"]["color"]
        for t in figure["data"]
        if t["meta"]["tier"] == "Unclustered"
    }
    assert grey == {theme.UNCLUSTERED_COLOUR}


def test_a_cached_comparison_is_answered_without_a_job(dataset):
    """compare_now answers from the cache; on a miss it asks for the job once."""
    shown = dataset  # k-means, as loaded
    k = K + 2
    table, rule, store, request = methods.compare_now(None, k, shown)
    # the table (it names its k) stays; the store is emptied, so "Use
    # recommended method" is disabled until the new k's comparison arrives
    assert (table, rule, store) == (no_update, no_update, None)
    assert methods.recommended_method_button(store, "kmeans", shown, k)[1] is True
    assert request == {"warm": None, "k": k, "dataset": shown}
    computed = methods.compare_requested(request, "page")
    table, rule, store, request = methods.compare_now(None, k, shown)
    assert request is no_update
    assert store == computed[2] and rule == computed[1]
    assert store["k"] == k
