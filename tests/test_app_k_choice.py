"""Choosing k in the app: the stability curve, the votes, "Use recommended k", and
the run report's stability; callbacks called as plain functions."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from dash import no_update

import segmentation
from app import figures, ids, storage
from app.callbacks import download, panels, upload
from app.layout import serve_layout
from segmentation.runs import RunStore

ANOMALY_PCT = 2
OLD_RUNS = Path(__file__).parent / "data" / "old_layout_run" / "runs"
MEASURES = ["inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]
#   k            2      3      4
#   silhouette   0.4    0.5    0.45   votes 3
#   stability    1.0    0.97   0.9    votes 2
TABLE = pd.DataFrame(
    {
        "inertia": [9.0, 5.0, 4.0],
        "silhouette": [0.4, 0.5, 0.45],
        "davies_bouldin": [1.0, 0.8, 0.9],
        "calinski_harabasz": [100, 120, 110],
        "stability": [1.0, 0.97, 0.9],
    },
    index=pd.Index([2, 3, 4], name="k"),
)
VOTES = {"silhouette": 3, "calinski_harabasz": 3, "davies_bouldin": 3, "stability": 2}


@pytest.fixture(scope="module")
def sample():
    return segmentation.load_sample()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, sample):
    storage.configure(tmp_path_factory.mktemp("data"))
    stored, _status = upload.ingest(sample, "sample.csv")
    return stored


@pytest.fixture(scope="module")
def prepared(dataset):
    return storage.get_store().prepared(dataset["id"], None)


@pytest.fixture(scope="module")
def old_sweep(tmp_path_factory):
    """The k sweep of a run saved before stability and the vote existed."""
    tmp = tmp_path_factory.mktemp("old")
    shutil.copytree(OLD_RUNS, tmp / "runs")
    (run_id,) = [p.name for p in OLD_RUNS.iterdir()]
    return RunStore(tmp).load_prepared(run_id).diagnostics


# The figure ------------------------------------------------------------------------


def test_the_figure_draws_stability_with_the_other_curves():
    fig = figures.k_diagnostics(TABLE, recommended_k=3, chosen_k=4, votes=VOTES)
    assert [t.name for t in fig.data] == [
        title for _, title in figures.DIAGNOSTIC_METRICS
    ]
    stab = fig.data[-1]
    assert list(stab.y) == [1.0, 0.97, 0.9]
    assert "adjusted Rand" in stab.hovertemplate
    # stability spans the bottom row, under two rows of two curves
    assert fig.layout.xaxis5.domain == (0.0, 1.0)
    assert fig.layout.yaxis5.domain[1] < fig.layout.yaxis3.domain[0]
    # two lines per curve: recommended (dashed) then chosen
    assert len(fig.layout.shapes) == 10
    assert {(s.x0, s.xref) for s in fig.layout.shapes[-2:]} == {(3, "x5"), (4, "x5")}
    assert fig.layout.shapes[-2].line.dash == "dash"


def test_the_figure_rings_and_labels_each_vote():
    fig = figures.k_diagnostics(TABLE, recommended_k=3, chosen_k=4, votes=VOTES)
    assert list(fig.data[4].marker.symbol) == ["circle-open", "circle", "circle"]
    assert list(fig.data[4].text) == ["vote", "", ""]  # stability votes k=2
    assert list(fig.data[1].marker.size) == [6, 12, 6]  # silhouette votes k=3
    assert set(fig.data[0].marker.symbol) == {"circle"}  # no knee: no vote
    assert set(fig.data[0].text) == {""}


def test_a_sweep_without_stability_draws_four_curves():
    fig = figures.k_diagnostics(TABLE[MEASURES], recommended_k=3, chosen_k=4)
    assert len(fig.data) == 4 and len(fig.layout.shapes) == 8
    assert "xaxis5" not in fig.layout


@pytest.mark.parametrize(("table", "recommended"), [(TABLE, 3), (TABLE, None)])
def test_chosen_k_patch_moves_the_stability_line_too(table, recommended):
    fig = figures.k_diagnostics(table, recommended, chosen_k=4)
    moved = figures.k_diagnostics(table, recommended, chosen_k=2)
    shapes = [dict(s.to_plotly_json()) for s in fig.layout.shapes]
    operations = figures.chosen_k_patch(recommended, 2, table).to_plotly_json()
    for op in operations["operations"]:
        _, _, index, key = op["location"]
        shapes[index][key] = op["params"]["value"]
    assert shapes == [dict(s.to_plotly_json()) for s in moved.layout.shapes]


# The callbacks ---------------------------------------------------------------------


def test_the_panel_shows_stability_votes_and_the_rule(dataset, prepared):
    diag = prepared.diagnostics
    fig, rule = panels.render_diagnostics(dataset, 5)
    assert len(fig.data) == 5
    assert list(fig.data[-1].y) == diag.table["stability"].tolist()
    assert rule.startswith(f"Recommended k = {diag.recommended_k}: majority of 5")
    for name in ("silhouette", "Calinski–Harabasz", "Davies–Bouldin", "stability"):
        assert name in rule
    assert rule.endswith("Chosen k = 5.")
    patch, rule = panels.move_chosen_k(7, dataset)
    assert len(patch.to_plotly_json()["operations"]) == 2 * 5  # x0 and x1, 5 curves
    assert rule.endswith("Chosen k = 7.")


def test_use_recommended_k_sets_the_slider(dataset, prepared):
    assert panels.use_recommended_k(1, dataset) == prepared.diagnostics.recommended_k
    recommended = prepared.diagnostics.recommended_k
    other = 10 if recommended != 10 else 9
    label, disabled = panels.recommended_k_button(dataset, other)
    assert (label, disabled) == (f"Use recommended k = {recommended}", False)
    assert panels.recommended_k_button(dataset, recommended)[1] is True


def test_without_a_sweep_the_button_does_nothing(dataset, prepared, monkeypatch):
    no_sweep = replace(prepared, diagnostics=None)
    monkeypatch.setattr(panels, "current_prepared", lambda _: no_sweep)
    assert panels.use_recommended_k(1, dataset) is no_update
    assert panels.recommended_k_button(dataset, 3) == ("Use recommended k", True)


def test_a_sweep_saved_before_the_vote_still_draws(
    dataset, prepared, old_sweep, monkeypatch
):
    assert old_sweep.votes == {}
    old = replace(prepared, diagnostics=old_sweep)
    monkeypatch.setattr(panels, "current_prepared", lambda _: old)
    fig, rule = panels.render_diagnostics(dataset, 4)
    assert len(fig.data) == 4  # no stability column, no rings
    assert rule.startswith(f"Recommended k = {old_sweep.recommended_k}: knee")
    patch, _ = panels.move_chosen_k(3, dataset)
    assert len(patch.to_plotly_json()["operations"]) == 2 * 4
    assert panels.use_recommended_k(1, dataset) == old_sweep.recommended_k


def test_the_page_has_the_button():
    page = str(serve_layout())
    assert f"'{ids.USE_RECOMMENDED_K}'" in page


# The run report --------------------------------------------------------------------


def test_the_run_report_carries_the_command_lines_stability(dataset, prepared):
    sent = download.download_report(1, dataset, 4, ANOMALY_PCT)
    report = json.loads(sent["content"])
    # as the command line computes it: segment(..., with_stability=True)
    cli = segmentation.segment(
        prepared, 4, anomaly_share=ANOMALY_PCT / 100, with_stability=True
    )
    assert report["stability"] == pytest.approx(cli.stability)
    assert 0 < report["stability"] <= 1
    assert report["settings"]["k"] == 4
    # the sweep in the report has the stability column and the rule
    table = pd.DataFrame(report["diagnostics"]["table"]).set_index("k")
    assert table["stability"].tolist() == pytest.approx(
        prepared.diagnostics.table["stability"].tolist()
    )
    assert report["diagnostics"]["rule"] == prepared.diagnostics.rule
    # the shown segmentation (cached) is left as it was
    shown = storage.get_store().segmentation(dataset["id"], 4, ANOMALY_PCT / 100)
    assert shown.stability is None
