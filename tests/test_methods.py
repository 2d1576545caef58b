"""Choosing the method: k-means, Gaussian mixture, Ward and HDBSCAN (issue 15).

Every method must give value tiers in value order (median monetary rises, median
frequency never falls), label every customer (HDBSCAN's noise as "Unclustered"),
score a new customer, survive a saved run, and be compared with the others.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

import segmentation
from segmentation import models, pipeline, reports, schema, settings
from segmentation.__main__ import main
from segmentation.errors import SegmentationError
from segmentation.runs import RunStore
from segmentation.scoring import score
from tests import exports_reference as reference

METHODS = ("kmeans", "gmm", "ward", "hdbscan")
VALUE = [schema.FREQUENCY, schema.MONETARY]


def _ordered(customers: pd.DataFrame) -> bool:
    """DESIGN 6, by plain pandas: tier by tier, median monetary rises and median
    frequency never falls (the Unclustered, value_cluster -1, are no tier)."""
    tiers = customers[customers[schema.VALUE_CLUSTER] >= 0]
    med = tiers.groupby(schema.VALUE_CLUSTER)[VALUE].median().sort_index()
    return bool(
        (np.diff(med[schema.MONETARY]) > 0).all()
        and (np.diff(med[schema.FREQUENCY]) >= 0).all()
    )


# Three well-separated groups of 10 customers, in ascending value -------------------
#   group 0: 1 order, 40..60 spent; group 1: 5..7 orders, 900..1,100 spent;
#   group 2: 40..50 orders, 40,000..60,000 spent. In log1p space the groups are
#   > 1.5 apart on each axis and < 0.5 wide: any sensible clustering finds them.
def _three_groups() -> pd.DataFrame:
    freq = [[1] * 10, [5, 6, 7, 5, 6, 7, 5, 6, 7, 6], list(range(40, 50))]
    spend = [
        np.linspace(40, 60, 10),
        np.linspace(900, 1_100, 10),
        np.linspace(40_000, 60_000, 10),
    ]
    table = pd.DataFrame(
        {
            schema.RECENCY_DAYS: np.tile(np.arange(10) * 7.0, 3),
            schema.FREQUENCY: np.concatenate(freq).astype(float),
            schema.MONETARY: np.concatenate(spend),
            "group": np.repeat([0, 1, 2], 10),
        }
    )
    table = table.sample(frac=1, random_state=3)  # no method may rely on row order
    table.index = pd.Index([f"C{i:02d}" for i in range(30)], name="customer_id")
    return table


@pytest.mark.parametrize("method", METHODS)
def test_every_method_finds_three_separated_groups_in_value_order(method):
    table = _three_groups()
    model = models.ValueTiers(3, method=method).fit(table)
    assert model.method_ == method  # its own partition, no fallback
    assert (model.labels_ == table["group"].to_numpy()).all()
    assert model.tier_names_ == ("Low", "Mid", "High")
    assert model.profile_["customers"].tolist() == [10, 10, 10]


@pytest.mark.parametrize("method", METHODS)
def test_a_new_customer_at_a_group_is_placed_in_its_tier(method):
    table = _three_groups()
    model = models.ValueTiers(3, method=method).fit(table)
    new = pd.DataFrame({schema.FREQUENCY: [1, 6, 45], schema.MONETARY: [50, 1e3, 5e4]})
    assert model.predict(new).tolist() == [0, 1, 2]


def test_hdbscan_size_follows_k_as_half_a_tier_share():
    # ceil(n / 2k): 30 customers, k=3 -> 5; 4,334 customers, k=4 -> 542
    assert models._methods.hdbscan_sizes(30, 3) == 5
    assert models._methods.hdbscan_sizes(4334, 4) == 542
    assert models._methods.hdbscan_sizes(7, 10) == 2  # never below 2
    table = _three_groups()
    model = models.ValueTiers(3, method="hdbscan").fit(table)
    assert model.fit_info_["min_cluster_size"] == 5
    assert model.fit_info_["min_samples"] == 5  # min(10, the size)
    assert model.fit_info_["unclustered"] == 0


def test_hdbscan_noise_is_unclustered_never_dropped():
    # the three groups plus two lone customers far from everyone and each other
    table = _three_groups()
    lone = pd.DataFrame(
        {
            schema.RECENCY_DAYS: [3.0, 5.0],
            schema.FREQUENCY: [200.0, 1.0],
            schema.MONETARY: [300.0, 900_000.0],
            "group": [-1, -1],
        },
        index=pd.Index(["L1", "L2"], name="customer_id"),
    )
    both = pd.concat([table, lone])
    model = models.ValueTiers(3, method="hdbscan").fit(both)
    assert model.labels_.tolist()[-2:] == [-1, -1]
    assert (model.labels_[:-2] == table["group"].to_numpy()).all()
    assert model.profile_.loc[-1, "value_tier"] == "Unclustered"
    assert model.profile_.loc[-1, "customers"] == 2
    # the other methods leave nobody out
    assert (models.ValueTiers(3, method="gmm").fit(both).labels_ >= 0).all()


def test_unknown_method_is_refused_by_name():
    with pytest.raises(SegmentationError, match=r"'dbscan'.*kmeans, gmm, ward"):
        models.ValueTiers(3, method="dbscan").fit(_three_groups())


def test_ward_above_its_sample_size_fits_a_sample_and_says_so(monkeypatch):
    rng = np.random.default_rng(0)
    n = 600
    orders = rng.integers(1, 30, n).astype(float)
    table = pd.DataFrame(
        {  # spend grows with orders, as in a shop
            schema.FREQUENCY: orders,
            schema.MONETARY: orders * rng.lognormal(4, 0.3, n),
        },
        index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"),
    )
    monkeypatch.setattr(models._methods, "WARD_SAMPLE", 200)
    monkeypatch.setattr(models._methods.ward_sample, "__defaults__", (200,))
    model = models.ValueTiers(3, method="ward").fit(table)
    assert model.method_ == "ward"
    assert model.fit_info_["fitted_on"] == 200
    assert model.fit_info_["sample_seed"] == model.seed_used_
    assert (model.labels_ >= 0).all() and len(np.unique(model.labels_)) == 3
    assert _ordered(table.assign(**{schema.VALUE_CLUSTER: model.labels_}))


# Online Retail I ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def retail_styles(retail_prepared):
    return pipeline.fit_styles(retail_prepared)


@pytest.fixture(scope="module")
def retail_runs(retail_prepared, retail_styles):
    return {
        (method, k): segmentation.segment(
            retail_prepared, k, method=method, style_model=retail_styles
        )
        for method in METHODS
        for k in (3, 4)
    }


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("method", METHODS)
def test_retail_tiers_are_in_value_order_and_everyone_is_labelled(
    retail_prepared, retail_runs, method, k
):
    run = retail_runs[method, k]
    customers = run.customers
    assert run.method == method
    assert len(customers) == len(retail_prepared.features) == 4334
    assert customers[schema.VALUE_TIER].notna().all()
    assert customers[schema.PERSONA].notna().all()
    assert customers[schema.GRID_LABEL].notna().all()
    assert _ordered(customers)
    noise = customers[schema.VALUE_CLUSTER] == -1
    if method == "hdbscan":
        assert (customers.loc[noise, schema.VALUE_TIER] == "Unclustered").all()
        assert noise.sum() == run.value_model.fit_info_["unclustered"]
        assert set(customers.loc[~noise, schema.VALUE_CLUSTER]) == set(
            range(run.value_model.n_tiers_)
        )
    else:
        assert not noise.any()
        assert sorted(customers[schema.VALUE_CLUSTER].unique()) == list(range(k))
    # revenue shares of the persona table cover all customers' spend
    assert run.personas["revenue_share"].sum() == pytest.approx(1.0)
    assert run.personas["customers"].sum() == 4334


@pytest.fixture(scope="module")
def retail_comparison(retail_prepared):
    return {k: pipeline.compare(retail_prepared, k) for k in (3, 4)}


@pytest.mark.parametrize("k", [3, 4])
def test_comparison_measures_match_scikit_learn(retail_prepared, retail_comparison, k):
    comparison = retail_comparison[k]
    table = comparison.table
    assert list(table.index) == list(METHODS)
    Z = np.log1p(retail_prepared.features[VALUE].to_numpy())
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    for method in METHODS:
        labels = models.ValueTiers(k, method=method).fit(retail_prepared.features)
        labels = labels.labels_
        kept = labels >= 0
        row = table.loc[method]
        assert row["silhouette"] == pytest.approx(
            silhouette_score(Z[kept], labels[kept]), abs=1e-9
        )
        assert row["davies_bouldin"] == pytest.approx(
            davies_bouldin_score(Z[kept], labels[kept])
        )
        assert row["calinski_harabasz"] == pytest.approx(
            calinski_harabasz_score(Z[kept], labels[kept])
        )
        sizes = pd.Series(labels[kept]).value_counts()
        assert row["smallest_group_share"] == pytest.approx(sizes.min() / len(labels))
        assert row["unclustered_share"] == pytest.approx((~kept).mean())
        assert 0 <= row["stability"] <= 1 and row["fit_s"] > 0
    # the rule: each measure's vote, the majority named
    votes = comparison.votes
    assert votes["silhouette"] == table["silhouette"].idxmax()
    assert votes["davies_bouldin"] == table["davies_bouldin"].idxmin()
    assert votes["calinski_harabasz"] == table["calinski_harabasz"].idxmax()
    counts = pd.Series(list(votes.values())).value_counts()
    assert counts[comparison.recommended] == counts.max()
    assert f"→ {comparison.recommended}" in comparison.rule


@pytest.mark.parametrize("method", METHODS)
def test_report_names_the_method_and_compares_all_four(
    retail_prepared, retail_runs, retail_comparison, method
):
    from dataclasses import replace

    run = replace(retail_runs[method, 4], method_comparison=retail_comparison[4])
    report = json.loads(json.dumps(reports.run_report(retail_prepared, run)))
    assert report["method"] == method
    assert report["method_fit"]["kept"] == method
    assert report["method_fit"]["tiers"] == run.value_model.n_tiers_
    compared = report["method_comparison"]
    assert [row["method"] for row in compared["table"]] == list(METHODS)
    assert compared["recommended"] in METHODS
    assert "adjusted Rand" in compared["stability"]
    tiers = [row["value_tier"] for row in report["value_clusters"]]
    if method == "hdbscan":
        assert tiers[0] == "Unclustered"
        assert report["method_fit"]["min_cluster_size"] == 542
    else:
        assert "Unclustered" not in tiers


# The exports of other shops (11-17 real customers each) -----------------------------
OPTIONS = {
    "yyyymmdd_log.txt": {"columns": "customer_id,invoice_date,quantity,amount"},
    "ambiguous_dates.csv": {"day_first": True},
    "hex_order_ids.csv": {"mapping": {"customer_id": "customer_unique_id"}},
}


@pytest.fixture(scope="module", params=sorted(reference.LOADERS))
def export(request):
    name = request.param
    path = reference.EXPORTS / name
    return name, segmentation.prepare(path, diagnostics=False, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("method", METHODS)
def test_exports_every_method_orders_and_labels_everyone(export, method, k):
    name, prepared = export
    run = segmentation.segment(prepared, k, method=method)
    assert len(run.customers) == len(prepared.features), name
    assert run.customers[schema.VALUE_TIER].notna().all(), name
    # In value order, or flagged as not (monotone_ False) where no clustering
    # and no fallback of 11-17 customers keeps it: office_prefixed_ids.csv at
    # k=4 (k-means too, as before methods existed).
    assert _ordered(run.customers) == run.value_model.monotone_, name
    if (name, k) != ("office_prefixed_ids.csv", 4):
        assert run.value_model.monotone_, (name, run.value_model.method_)
    unclustered = run.customers[schema.VALUE_TIER] == "Unclustered"
    assert (run.customers.loc[unclustered, schema.VALUE_CLUSTER] == -1).all()


def test_exports_comparison_covers_the_four(export):
    name, prepared = export
    comparison = pipeline.compare(prepared, 3)
    assert list(comparison.table.index) == list(METHODS), name
    assert comparison.recommended in METHODS


# The command line ------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_cli_runs_each_method_and_prints_the_comparison(tmp_path, capsys, method):
    report_path = tmp_path / "run.json"
    csv_path = tmp_path / "customers.csv"
    code = main(
        [
            str(reference.EXPORTS / "uci_returns.csv"),
            "-k", "3", "--method", method,
            "--report", str(report_path), "-o", str(csv_path),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"method: {method}, " in err
    assert "method comparison, k=3:" in err
    for other in METHODS:
        assert any(line[2:].startswith(other) for line in err.splitlines())
    assert "recommended method: " in err
    report = json.loads(report_path.read_text("utf-8"))
    assert report["method"] == method
    assert [r["method"] for r in report["method_comparison"]["table"]] == list(METHODS)
    written = pd.read_csv(csv_path)
    assert len(written) == report["customers"]


def test_cli_without_a_method_runs_kmeans_and_compares_only_when_asked(
    tmp_path, capsys
):
    # the comparison refits four methods several times: not on every plain run
    report_path = tmp_path / "run.json"
    source = str(reference.EXPORTS / "uci_returns.csv")
    assert main([source, "-k", "3", "--report", str(report_path)]) == 0
    err = capsys.readouterr().err
    assert "method: kmeans, " in err and "--compare-methods" in err
    assert "method comparison" not in err
    report = json.loads(report_path.read_text("utf-8"))
    assert report["method"] == "kmeans" and report["method_comparison"] is None
    assert (
        main([source, "-k", "3", "--compare-methods", "--report", str(report_path)])
        == 0
    )
    err = capsys.readouterr().err
    assert "method comparison, k=3:" in err
    report = json.loads(report_path.read_text("utf-8"))
    assert [r["method"] for r in report["method_comparison"]["table"]] == list(METHODS)


def test_cli_refuses_an_unknown_method(capsys):
    code = None
    with pytest.raises(SystemExit) as exit_:
        main([str(reference.EXPORTS / "uci_returns.csv"), "--method", "dbscan"])
    code = exit_.value.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: ") and "dbscan" in err[0]


def test_default_method_is_kmeans_as_before():
    assert settings.DEFAULT_METHOD == "kmeans"
    assert models.ValueTiers().method == "kmeans"


# Scoring a new customer with a saved gmm / ward / hdbscan run -----------------------
@pytest.mark.parametrize("method", ["gmm", "ward", "hdbscan"])
def test_saved_run_reloads_its_model_and_scores_a_new_customer(
    tmp_path, retail_prepared, retail_runs, method
):
    run = retail_runs[method, 3]
    store = RunStore(tmp_path)
    run_id = store.save(retail_prepared, run, source="cli")
    saved = store.load(run_id).segmentation
    assert saved.method == method
    assert saved.value_model.method_ == method
    assert store.summary(run_id)["method"] == method
    # a customer at the median of the top tier, and one at the bottom's
    top = run.customers[
        run.customers[schema.VALUE_CLUSTER] == run.value_model.n_tiers_ - 1
    ]
    low = run.customers[run.customers[schema.VALUE_CLUSTER] == 0]
    new = [
        {
            schema.RECENCY_DAYS: 10,
            schema.FREQUENCY: float(g[schema.FREQUENCY].median()),
            schema.MONETARY: float(g[schema.MONETARY].median()),
        }
        for g in (low, top)
    ]
    scored = score(saved, new)
    assert scored[schema.VALUE_CLUSTER].tolist() == [0, run.value_model.n_tiers_ - 1]
    # nearest centroid by plain numpy for ward and hdbscan
    if method != "gmm":
        Z = np.log1p(retail_prepared.features[VALUE].to_numpy())
        mean, std = Z.mean(axis=0), Z.std(axis=0)
        labels = run.value_model.labels_
        centres = np.array(
            [
                ((Z[labels == c] - mean) / std).mean(axis=0)
                for c in range(labels.max() + 1)
            ]
        )
        point = (
            np.log1p([[n[schema.FREQUENCY], n[schema.MONETARY]] for n in new]) - mean
        ) / std
        nearest = ((point[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        assert scored[schema.VALUE_CLUSTER].tolist() == nearest.tolist()
