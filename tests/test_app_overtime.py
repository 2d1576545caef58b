"""The over-time panel's callbacks called as functions (DESIGN section 10).

On the built-in sample, Online Retail I and the Online Retail II head file: the
job waits for the first panels' warm-up, the Sankey's links add up to every
customer and equal the moves counted from the customers' own columns and the
API's ``/api/runs/<id>/migration`` of the same data, a click selects exactly the
customers of a link or node, the tier table and the words say what the models
and the moves say, and the table and the CSV carry the new columns.
"""

from __future__ import annotations

import io

import flask
import pandas as pd
import pytest
from dash import no_update

import segmentation
from app import storage
from app.api import register_api
from app.callbacks import download, overtime, selection, upload
from app.callbacks.common import warm_every_k
from app.components import overtime as overtime_panel
from app.figures.sankey import ARROW
from app.selection import MOVED, describe, selection_mask
from segmentation import schema
from segmentation.lifetime import LifetimeSettings
from segmentation.runs import RunStore
from tests.dash_text import text_of

PCT = 2
K = 3
COMPARE = 90
HOLDOUT = 90


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    return storage.configure(tmp_path_factory.mktemp("overtime-data"))


def _shown(configured, data: bytes, name: str) -> tuple[dict, dict]:
    """Load a file as the page does; run the every-k warm-up's gate (k = K)."""
    dataset, _status = upload.ingest(data, name)
    warm = warm_every_k(dataset, PCT, [K])
    store = overtime.over_time_job(warm, K, COMPARE, HOLDOUT, dataset, PCT, "page")
    return dataset, store


@pytest.fixture(scope="module")
def sample_view(configured):
    return _shown(configured, segmentation.load_sample(), "sample.csv")


@pytest.fixture(scope="module")
def retail_view(configured, retail_csv):
    return _shown(configured, retail_csv.read_bytes(), retail_csv.name)


@pytest.fixture(scope="module")
def head_view(configured, retail_ii_head):
    return _shown(configured, retail_ii_head.read_bytes(), retail_ii_head.name)


def _render(view, chosen=None):
    dataset, store = view
    return overtime.render_over_time(store, chosen, dataset, K, PCT, COMPARE, HOLDOUT)


def _links(figure) -> dict[tuple[str, str], int]:
    link = figure.data[0].link
    out: dict[tuple[str, str], int] = {}
    for label, value in zip(link.label, link.value, strict=True):
        before, now = label.split(ARROW)
        out[before, now] = out.get((before, now), 0) + int(value)
    return out


def _customers(view) -> pd.DataFrame:
    dataset, _store = view
    return overtime.over_time_customers(dataset, K, PCT, COMPARE, HOLDOUT)


def _crosstab(customers: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Moves counted from the customers' own two columns (not the report)."""
    pairs = zip(
        customers[schema.VALUE_TIER_BEFORE].astype(str),
        customers[schema.VALUE_TIER].astype(str),
        strict=True,
    )
    out: dict[tuple[str, str], int] = {}
    for pair in pairs:
        out[pair] = out.get(pair, 0) + 1
    return out


def test_the_job_waits_for_the_first_panels(configured, sample_view):
    dataset, _ = sample_view
    # no warm-up answer yet, or one of another dataset or sensitivity: wait
    assert overtime.over_time_job(None, K, 90, 0, dataset, PCT) is None
    other = {"id": "0" * 64, "anomaly_share": PCT / 100, "k": [K]}
    assert overtime.over_time_job(other, K, 90, 0, dataset, PCT) is None
    warm = {"id": dataset["id"], "anomaly_share": 0.05, "k": [K]}
    assert overtime.over_time_job(warm, K, 90, 0, dataset, PCT) is None
    status, *_rest = overtime.render_over_time(None, None, dataset, K, PCT, 90, 0)
    assert status == overtime_panel.COMING
    # nothing stored for these settings: the table and CSV keep the panels' columns
    assert overtime.over_time_customers(dataset, K, PCT, 90, 0) is None


def test_the_store_says_what_is_ready_with_its_settings(sample_view):
    dataset, store = sample_view
    assert store["dataset"] == dataset and store["k"] == K
    assert (store["compare_days"], store["holdout_days"]) == (COMPARE, HOLDOUT)
    assert store["columns"] == [
        "p_alive",
        "expected_orders_90d",
        "expected_spend_per_order",
        "clv_365d",
        "value_tier_before",
        "status_before",
    ]
    # the page's select gives strings; another k or compare days is not ready
    assert overtime.ready(store, dataset, K, PCT, "90", "90") == store
    assert overtime.ready(store, dataset, K + 1, PCT) is None
    assert overtime.ready(store, dataset, K, PCT, "30", "90") is None


@pytest.mark.parametrize("view_name", ["sample_view", "retail_view"])
def test_sankey_links_add_up_and_equal_the_moves(view_name, request):
    view = request.getfixturevalue(view_name)
    customers = _customers(view)
    figure = _render(view)[5]
    links = _links(figure)
    assert sum(links.values()) == len(customers)  # every customer once
    assert links == _crosstab(customers)
    dataset, store = view
    seg = overtime.over_time_segmentation(store, dataset, K, PCT)
    moves = {
        (m["from"], m["to"]): m["customers"] for m in seg.migration.report["moves"]
    }
    assert links == moves


def test_online_retail_moves_as_the_engine_counts_them(retail_view):
    links = _links(_render(retail_view)[5])
    # Online Retail I, k = 3, 90 days (engine commit 209405a): 966 new customers
    # (tenure <= 90 days), 3,368 customers at the earlier date
    new = sum(n for (b, _), n in links.items() if b == schema.NOT_YET_A_CUSTOMER)
    assert new == 966
    assert sum(links.values()) - new == 3368


def test_sankey_equals_the_api_for_the_same_run(sample_view, tmp_path):
    """The app's Sankey against a run made by the engine alone, read by the API."""
    data = segmentation.load_sample()
    prepared = segmentation.prepare(
        data,
        filename="sample.csv",
        lifetime=LifetimeSettings(holdout_days=HOLDOUT),
        compare_days=COMPARE,
    )
    seg = segmentation.segment(prepared, K, anomaly_share=PCT / 100)
    runs = RunStore(tmp_path / "runs")
    run_id = runs.save(prepared, seg, source="app")
    server = flask.Flask(__name__)
    register_api(server, store_factory=lambda: runs)
    answer = server.test_client().get(f"/api/runs/{run_id}/migration")
    assert answer.status_code == 200
    api = {(m["from"], m["to"]): m["customers"] for m in answer.get_json()["moves"]}
    assert _links(_render(sample_view)[5]) == api


@pytest.mark.parametrize("view_name", ["sample_view", "retail_view"])
def test_a_link_click_selects_exactly_its_customers(view_name, request):
    view = request.getfixturevalue(view_name)
    dataset, store = view
    customers = _customers(view)
    link = _render(view)[5].data[0].link
    for number, label in enumerate(link.label):
        point = {"label": label, "pointNumber": number, "curveNumber": 0}
        chosen = overtime.select_moved(
            {"points": [point]}, store, dataset, K, PCT, None
        )
        before, now = label.split(ARROW)
        expected = customers[
            (customers[schema.VALUE_TIER_BEFORE] == before)
            & (customers[schema.VALUE_TIER] == now)
        ][schema.CUSTOMER_ID]
        assert chosen[MOVED]["from"] == before and chosen[MOVED]["to"] == now
        assert sorted(chosen[MOVED]["ids"]) == sorted(expected.astype(str))
        assert len(expected) == link.value[number]
        # the panels' own customers (no earlier tier) select the same people
        plain = segmentation_customers(dataset)
        mask = selection_mask(plain, chosen)
        assert set(plain.loc[mask, schema.CUSTOMER_ID].astype(str)) == set(
            expected.astype(str)
        )
        assert describe(chosen) == (
            f"new customers in the last 90 days, now {now} tier"
            if before == schema.NOT_YET_A_CUSTOMER
            else f"stayed in the {now} tier over 90 days"
            if before == now
            else f"moved from {before} to {now} tier in 90 days"
        )


def segmentation_customers(dataset) -> pd.DataFrame:
    return storage.get_store().segmentation(dataset["id"], K, PCT / 100).customers


def test_a_node_click_selects_one_side(sample_view):
    dataset, store = sample_view
    customers = _customers(sample_view)
    node = _render(sample_view)[5].data[0].node
    before_nodes = len(set(customers[schema.VALUE_TIER_BEFORE]))
    for number, label in enumerate(node.label):
        point = {"label": label, "pointNumber": number, "curveNumber": 0}
        chosen = overtime.select_moved(
            {"points": [point]}, store, dataset, K, PCT, None
        )
        column = (
            schema.VALUE_TIER_BEFORE if number < before_nodes else schema.VALUE_TIER
        )
        expected = customers.loc[customers[column] == label, schema.CUSTOMER_ID]
        assert sorted(chosen[MOVED]["ids"]) == sorted(expected.astype(str)), label


def test_a_click_on_another_figure_changes_nothing(sample_view):
    dataset, store = sample_view
    stray = {"points": [{"label": "High → Nowhere", "pointNumber": 0}]}
    assert overtime.select_moved(stray, store, dataset, K, PCT, None) == (
        overtime.no_update
    )
    assert overtime.select_moved(None, store, dataset, K, PCT, None) == (
        overtime.no_update
    )


def test_a_selection_splits_each_link_and_keeps_the_sums(sample_view):
    customers = _customers(sample_view)
    chosen = {"cell": ["High", "Regular"]}
    figure = _render(sample_view, chosen)[5]
    assert _links(figure) == _crosstab(customers)  # parts add up to each move
    link = figure.data[0].link
    mask = selection_mask(customers, chosen)
    selected_total = sum(
        v for v, c in zip(link.value, link.color, strict=True) if "0.12" not in c
    )
    assert selected_total == int(mask.sum())


def test_the_models_in_words_and_per_tier(sample_view):
    status, model, tiers, holdout, style, _sankey, words = _render(sample_view)
    dataset, store = sample_view
    seg = overtime.over_time_segmentation(store, dataset, K, PCT)
    bg = seg.lifetime.report["bgnbd"]
    text = text_of(model)
    assert "BG/NBD + Gamma-Gamma" in text and "time unit: days" in text
    assert f"r = {bg['r']:.3g}" in text and f"b = {bg['b']:.3g}" in text
    assert "1 % a month" in text
    customers = seg.customers
    high = customers[customers[schema.VALUE_TIER] == "High"]
    body = tiers.children[1].children
    rows = {
        text_of(tr.children[0]): [text_of(td) for td in tr.children[1:]] for tr in body
    }
    assert list(rows) == ["High", "Mid", "Low", "All customers"]
    assert rows["High"] == [
        f"{len(high):,}",
        f"{high['p_alive'].median():.2f}",
        f"{round(high['expected_orders_90d'].sum()):,}",
        f"{high['clv_365d'].sum():,.0f}",
    ]
    assert rows["All customers"][0] == f"{len(customers):,}"
    # the sample's calibration period is too thin: the check says why
    reason = holdout.layout.annotations[0].text.replace("<br>", " ")
    assert "176 of 307 customers have a repeat order" in reason
    assert style == {"height": "120px"}  # a short graph saying why not
    assert "compared with 2011-09-11 (90 days before 2011-12-10)" in status
    per = seg.migration.report["tier_directions"]
    assert f"{per['up']['customers']:,} moved up" in text_of(words)
    assert f"{per['in']['customers']:,} are new customers" in text_of(words)


def test_online_retail_holdout_plot_and_moved_down_revenue(retail_view):
    _status, _model, _tiers, holdout, _style, _sankey, words = _render(retail_view)
    dataset, store = retail_view
    report = overtime.over_time_segmentation(store, dataset, K, PCT).lifetime.report[
        "holdout"
    ]
    predicted, actual = holdout.data
    assert (predicted.name, actual.name) == ("Predicted", "Actual")
    assert list(actual.x) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(actual.y) == report["actual_orders"]
    assert sum(predicted.y) == pytest.approx(report["predicted_orders"])
    # the moves of customers who moved down, counted from the customers
    customers = _customers(retail_view)
    tiers = {"Low": 0, "Mid": 1, "High": 2}
    down = customers[
        customers[schema.VALUE_TIER_BEFORE].map(tiers)
        > customers[schema.VALUE_TIER].map(tiers)
    ]
    text = text_of(words)
    assert f"{len(down):,} customer" in text and "moved down" in text
    assert f"{down[schema.MONETARY].sum():,.0f}" in text


def test_head_file_says_why_there_are_no_lifetime_numbers(head_view):
    _dataset, store = head_view
    assert "p_alive" not in store["columns"]  # no numbers to show
    _status, model, tiers, holdout, *_rest = _render(head_view)
    assert text_of(model) == (
        "No lifetime numbers: 8 of 50 customers have a repeat order; the "
        "lifetime models need at least 200."
    )
    assert "see why above" in text_of(tiers)
    reason = holdout.layout.annotations[0].text.replace("<br>", " ")
    assert "No holdout check: calibration period: 2 of 23" in reason
    links = _links(_render(head_view)[5])
    assert sum(links.values()) == 50  # the moves are shown all the same


def test_table_rows_and_columns_carry_the_new_columns(retail_view):
    dataset, store = retail_view
    chosen = overtime.select_moved(
        {
            "points": [
                {
                    "label": f"Mid{ARROW}High",
                    "pointNumber": _number("Mid", "High", retail_view),
                }
            ]
        },
        store,
        dataset,
        K,
        PCT,
        None,
    )
    _summary, rows, _count = selection.render_selection(
        dataset, K, PCT, chosen, COMPARE, HOLDOUT
    )
    customers = _customers(retail_view).set_index(schema.CUSTOMER_ID)
    assert len(rows) == len(chosen[MOVED]["ids"])
    first = rows[0]
    assert first["tier_before"] == "Mid" and first["tier"] == "High"
    assert first["p_alive"] == pytest.approx(
        customers.loc[first["id"], "p_alive"], abs=5e-4
    )
    assert first["clv"] == pytest.approx(
        customers.loc[first["id"], "clv_365d"], abs=0.005
    )
    fields = [
        c["field"]
        for c in selection.table_columns("£", [], dataset, K, PCT, COMPARE, HOLDOUT)
    ]
    assert fields[-5:] == [
        "p_alive",
        "orders_90d",
        "clv",
        "tier_before",
        "status_before",
    ]
    # before the job answers (or for another k): the panels' columns only
    assert "p_alive" not in [c["field"] for c in selection.table_columns("", None)]
    other = selection.table_columns("", [], dataset, K, PCT, 30, HOLDOUT)
    assert "p_alive" not in [c["field"] for c in other]
    plain_rows = selection.render_selection(dataset, K, PCT, chosen, 30, HOLDOUT)[1]
    assert "p_alive" not in plain_rows[0]


def _number(before, now, view) -> int:
    labels = list(_render(view)[5].data[0].link.label)
    return labels.index(f"{before}{ARROW}{now}")


def test_csv_download_has_the_lifetime_and_migration_columns(retail_view):
    dataset, _store = retail_view
    sent = download.download_customers(
        1, "all", dataset, K, PCT, None, COMPARE, HOLDOUT
    )
    table = pd.read_csv(io.StringIO(sent["content"]), dtype={"customer_id": str})
    for column in ("p_alive", "clv_365d", "value_tier_before", "status_before"):
        assert column in table.columns
    customers = _customers(retail_view)
    assert len(table) == len(customers)
    assert (table["value_tier_before"] == schema.NOT_YET_A_CUSTOMER).sum() == 966
    # without a stored over-time result for the settings: the panels' CSV
    plain = download.download_customers(1, "all", dataset, K, PCT, None)
    assert "p_alive" not in plain["content"].splitlines()[0]


def test_a_stored_view_is_answered_without_a_job(configured, sample_view):
    """A view computed before comes from the store in an ordinary callback.

    A background job costs a process and at least one poll even when its
    result is stored; a k seen before must not start one.
    """
    dataset, stored = sample_view
    warm = {"id": dataset["id"], "anomaly_share": PCT / 100, "k": [K]}
    store, request, *panel = overtime.over_time_now(
        warm, K, COMPARE, HOLDOUT, dataset, PCT
    )
    assert store == stored
    assert request is no_update
    assert panel == [no_update] * len(overtime.waiting())


def test_a_view_not_stored_asks_for_the_job_and_says_it_is_coming(
    configured, sample_view
):
    dataset, _stored = sample_view
    warm = {"id": dataset["id"], "anomaly_share": PCT / 100, "k": [K + 1]}
    # k + 1 with these settings was never computed in this module
    store, request, status, *_rest = overtime.over_time_now(
        warm, K + 1, 30, 0, dataset, PCT
    )
    assert store is no_update
    assert status == overtime_panel.COMING
    assert request == {
        "warm": warm,
        "k": K + 1,
        "compare_days": 30,
        "holdout_days": 0,
        "dataset": dataset,
        "percent": PCT,
    }
    # the job answers that request as the view's key; then it is stored
    answer = overtime.over_time_requested(request, "page")
    assert (answer["k"], answer["compare_days"], answer["holdout_days"]) == (
        K + 1,
        30,
        None,
    )
    again, request, *_panel = overtime.over_time_now(warm, K + 1, 30, 0, dataset, PCT)
    assert again == answer and request is no_update


def test_no_answer_before_the_warm_up(configured, sample_view):
    dataset, _stored = sample_view
    other = {"id": "0" * 64, "anomaly_share": PCT / 100, "k": [K]}
    for warm in (None, other):
        answer = overtime.over_time_now(warm, K, COMPARE, HOLDOUT, dataset, PCT)
        assert answer == (no_update,) * (2 + len(overtime.waiting()))
