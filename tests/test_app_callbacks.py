"""Callbacks called as plain functions, on the built-in sample and the engine."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from contextvars import copy_context

import pandas as pd
import plotly.graph_objects as go
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import segmentation
from app import create_app, ids, storage
from app.callbacks import download, errors, panels, selection, upload
from app.figures import scatter_points
from segmentation import pipeline, schema
from segmentation.errors import ColumnMappingError, InputFileError, SegmentationError
from tests.dash_text import text_of
from tests.staged_uploads import staged

ANOMALY_PCT = 2


def triggered(prop_id, func, *args, value=1):
    """Run ``func(*args)`` as if Dash had called it for ``prop_id``."""

    def run():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}])
        )
        return func(*args)

    return copy_context().run(run)


@pytest.fixture(scope="module")
def sample():
    return segmentation.load_sample()


@pytest.fixture(scope="module")
def reference(sample):
    """The engine's own result on the sample, computed without the app."""
    prepared = segmentation.prepare(sample, filename=segmentation.SAMPLE_NAME)
    return prepared, segmentation.segment(prepared, 3, anomaly_share=ANOMALY_PCT / 100)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, sample):
    storage.configure(tmp_path_factory.mktemp("data"))
    steps = []
    result = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        steps.append,
        staged(sample, "mine.csv"),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    stored, _message, is_open, status, _fields, _style, _pending = result
    assert not is_open and "mine.csv" in status
    assert steps and steps[-1][0] == 100  # progress reached 100 %
    return stored


def test_upload_stores_the_content_hash(dataset, sample):
    assert dataset == {
        "id": storage.content_id(sample),
        "filename": "mine.csv",
        "mapping": None,
    }


def test_reupload_does_not_prepare_again(dataset, sample, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("prepare called for bytes already prepared")

    monkeypatch.setattr(pipeline, "prepare", boom)
    again = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(sample, "mine.csv"),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    assert again[0]["id"] == dataset["id"]


def test_sample_button_loads_the_sample(dataset):
    result = triggered(
        f"{ids.SAMPLE_BUTTON}.n_clicks",
        upload.load_dataset,
        lambda _: None,
        None,
        1,
        None,
        None,
        [],
        [],
        None,
    )
    assert result[0]["filename"] == segmentation.SAMPLE_NAME


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad.csv"),  # not text at all
        # (an empty file never reaches the job: POST /upload answers 400,
        # tests/test_upload_route.py)
    ],
)
def test_bad_upload_shows_the_engine_message_and_keeps_dataset(dataset, payload, name):
    with pytest.raises(InputFileError) as expected:
        segmentation.prepare(payload, filename=name)
    assert name in str(expected.value)
    result = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(payload, name),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    stored, message, is_open, status, _fields, style, pending = result
    assert stored is upload.no_update  # the previous dataset id stays
    assert is_open and message == str(expected.value)
    assert status.startswith("Failed")
    assert style == upload.HIDDEN and pending is None  # no mapping question


def test_text_without_the_needed_columns_asks_which_column_is_which(dataset):
    # A readable table whose headers name no column the engine needs is a
    # question for the user, not an error: the engine raises ColumnMappingError
    payload, name = b"this is not, a retail\nexport at all\n", "bad.csv"
    with pytest.raises(ColumnMappingError):
        segmentation.prepare(payload, filename=name)
    result = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(payload, name),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    stored, message, is_open, status, fields, style, pending = result
    assert stored is upload.no_update  # the previous dataset id stays
    assert not is_open and message is None  # the red alert stays closed
    assert status == "Which column is which? Choose the columns of bad.csv below."
    assert style == upload.SHOWN and "this is not" in str(fields)  # its headers
    assert pending == {"id": storage.content_id(payload), "filename": name}


def test_damaged_upload_names_the_file(dataset):
    result = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(b"PK\x03\x04" + bytes(range(40)), "broken.xlsx"),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    assert "broken.xlsx" in result[1]


def unusual_export() -> bytes:
    """40 customers x 3 orders, under a customer header no synonym matches."""
    lines = ["Cust Code,Order No,Order Date,Qty,Price"]
    for c in range(40):
        for o in range(3):
            day = 1 + (c + 7 * o) % 28
            qty, price = 1 + c % 5 + o, 2.5 + c
            lines.append(f"K{c:03d},{c}-{o},2024-03-{day:02d},{qty},{price}")
    return ("\n".join(lines) + "\n").encode()


def test_unmatched_columns_ask_for_a_mapping_then_apply_it(dataset):
    data = unusual_export()
    asked = triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(data, "shop.csv"),
        None,
        None,
        None,
        [],
        [],
        None,
    )
    stored, message, is_open, status, fields, style, pending = asked
    assert stored is upload.no_update
    # a question, not an error: the alert stays closed, the status asks
    assert not is_open and message is None and "Which column is which?" in status
    assert "shop.csv" in status
    assert style == upload.SHOWN and "Cust Code" in str(fields)
    assert pending == {"id": storage.content_id(data), "filename": "shop.csv"}
    choice_ids = [ids.mapping_choice(c) for c in ("customer_id",)]
    applied = triggered(
        f"{ids.MAPPING_APPLY}.n_clicks",
        upload.load_dataset,
        lambda _: None,
        None,
        None,
        1,
        None,
        ["Cust Code"],
        choice_ids,
        pending,
    )
    assert applied[0] == {
        "id": pending["id"],
        "filename": "shop.csv",
        "mapping": {"customer_id": "Cust Code"},
    }
    assert applied[5] == upload.HIDDEN
    grid = panels.render_panels(applied[0], 2, ANOMALY_PCT, None, "customers")[0]
    assert sum(sum(row) for row in grid.data[0].z) == 40


def test_k_change_gives_four_tiers(dataset):
    grid, scatter, heat, cards = panels.render_panels(
        dataset, 4, ANOMALY_PCT, None, "customers"
    )
    scatter = go.Figure(scatter)  # sent as plain data; this also validates it
    assert len(grid.data[0].y) == 4
    assert len({t.meta["tier"] for t in scatter.data if t.meta}) == 4
    assert len(heat.data[0].y) == 4
    # one card per value tier, highest first, listing its tier x status personas
    assert len(cards) == 4
    personas = panels.current_segmentation(dataset, 4, ANOMALY_PCT).personas
    for cluster, card in zip([3, 2, 1, 0], cards, strict=True):
        assert card["cluster"] == cluster
        names = personas.loc[cluster, schema.PERSONA]
        assert sorted(g["persona"] for g in card["groups"]) == sorted(names)
    json.dumps(cards)  # plain data, for the browser to draw


def test_grid_counts_match_the_engine(dataset, reference):
    grid = panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers")[0]
    customers = reference[1].customers
    total = customers.groupby(schema.VALUE_TIER).size().sum()
    assert sum(sum(row) for row in grid.data[0].z) == total == len(customers)


def test_grid_click_selects_a_cell():
    click = {"points": [{"x": "Bulk", "y": "High", "z": 5}]}
    chosen = triggered(
        f"{ids.VALUE_STYLE_GRID}.clickData",
        selection.update_selection,
        click,
        None,
        None,
        None,
        None,
        3,
        2,
        None,
    )
    assert chosen == {"cell": ["High", "Bulk"]}


def test_scatter_box_selects_customer_ids():
    box = {
        "points": [
            {"customdata": ["12347", 2, "Regular"]},
            {"customdata": ["12350", 310, "Bulk"]},
        ]
    }
    chosen = triggered(
        f"{ids.CUSTOMER_SCATTER}.selectedData",
        selection.update_selection,
        None,
        box,
        None,
        None,
        None,
        3,
        2,
        None,
    )
    assert chosen == {"customer_ids": ["12347", "12350"]}


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ({"customer_ids": ["12347"]}, None),  # double-click / empty box clears it
        ({"cell": ["High", "Bulk"]}, selection.no_update),  # box dropped by re-render
        ({"cluster": 1}, selection.no_update),
        (None, selection.no_update),
    ],
)
def test_empty_scatter_selection_clears_only_a_scatter_selection(current, expected):
    for empty in (None, {"points": []}):
        chosen = triggered(
            f"{ids.CUSTOMER_SCATTER}.selectedData",
            selection.update_selection,
            None,
            empty,
            None,
            None,
            None,
            3,
            2,
            current,
        )
        assert chosen is expected or chosen == expected


def test_a_box_selection_leaves_the_scatter_as_plotly_drew_it(dataset):
    box = {"customer_ids": ["12347", "12350"]}
    grid, scatter, _heat, _cards = panels.render_panels(
        dataset, 3, ANOMALY_PCT, box, "customers"
    )
    assert scatter is panels.no_update  # a re-render would drop the box
    assert "selected: " in grid.data[0].text[0][0]
    first = panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers")[1]
    again = panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers")[1]
    first, again = go.Figure(first), go.Figure(again)
    assert first.layout.uirevision == again.layout.uirevision  # zoom kept
    assert first.layout.selectionrevision != again.layout.selectionrevision


def test_a_box_on_a_sampled_scatter_selects_everyone_inside(dataset, monkeypatch):
    # The sample has 400 customers; with a threshold of 100 its scatter is sampled.
    monkeypatch.setattr(scatter_points, "MAX_POINTS", 100)
    customers = panels.current_segmentation(dataset, 3, ANOMALY_PCT).customers
    fig = panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers")[1]
    drawn = [t for t in fig["data"] if t.get("meta")]
    meta = fig["layout"]["meta"]
    assert (meta["shown"], meta["total"]) == (
        sum(len(t["x"]) for t in drawn),
        len(customers),
    )
    # plotly reports the drawn points inside the box, and the box in data units
    box = {"x": [2, 20], "y": [300, 5000]}
    inside = [
        (x, y, c)
        for t in drawn
        for x, y, c in zip(t["x"], t["y"], t["customdata"])
        if 2 <= x <= 20 and 300 <= y <= 5000
    ]
    selected = {"points": [{"customdata": c} for *_, c in inside], "range": box}
    chosen = triggered(
        f"{ids.CUSTOMER_SCATTER}.selectedData",
        selection.update_selection,
        None,
        selected,
        None,
        None,
        dataset,
        3,
        ANOMALY_PCT,
        None,
    )
    assert chosen == {"region": {"box": {"x": [2.0, 20.0], "y": [300.0, 5000.0]}}}
    everyone = customers[schema.FREQUENCY].between(2, 20) & customers[
        schema.MONETARY
    ].between(300, 5000)
    assert everyone.sum() > len(inside)  # the undrawn customers inside count too
    summary, _rows, _count = selection.render_selection(dataset, 3, ANOMALY_PCT, chosen)
    text = text_of(summary)
    assert "every customer inside the scatter's box" in text
    assert f"{everyone.sum():,} of {len(customers):,} customers" in text
    grid, scatter, *_ = panels.render_panels(
        dataset, 3, ANOMALY_PCT, chosen, "customers"
    )
    assert scatter is panels.no_update  # plotly keeps drawing the box
    cells = [cell for row in grid.data[0].text for cell in row]
    per_cell = [re.search(r"selected: ([\d,]+)", c) for c in cells]
    assert sum(int(m[1].replace(",", "")) for m in per_cell if m) == everyone.sum()
    without = dict(chosen)
    monkeypatch.setattr(scatter_points, "MAX_POINTS", 10_000)  # not sampled now
    again = triggered(
        f"{ids.CUSTOMER_SCATTER}.selectedData",
        selection.update_selection,
        None,
        selected,
        None,
        None,
        dataset,
        3,
        ANOMALY_PCT,
        None,
    )
    assert again == {"customer_ids": [c[0] for *_, c in inside]} != without


def test_an_empty_box_clears_a_region_selection():
    current = {"region": {"box": {"x": [1.0, 2.0], "y": [1.0, 2.0]}}}
    chosen = triggered(
        f"{ids.CUSTOMER_SCATTER}.selectedData",
        selection.update_selection,
        None,
        {"points": []},
        None,
        None,
        None,
        3,
        2,
        current,
    )
    assert chosen is None


def test_persona_card_click_selects_a_cluster():
    # the browser sets the click store (assets/persona_cards.js)
    prop = f"{ids.PERSONA_CARD_CLICK}.data"
    click = {"cluster": 2, "at": 1764190000000}
    chosen = triggered(
        prop,
        selection.update_selection,
        None,
        None,
        click,
        None,
        None,
        3,
        2,
        {"cell": ["High", "Bulk"]},  # another selection before: replaced
        value=click,
    )
    assert chosen == {"cluster": 2}
    # the same card again: its tier stays chosen
    again = {"cluster": 2, "at": 1764190000500}
    assert triggered(
        prop, selection.update_selection, None, None, again, None, None, 3, 2, chosen
    ) == {"cluster": 2}
    # no click yet (the store empty): nothing changes
    unclicked = triggered(
        prop,
        selection.update_selection,
        None,
        None,
        None,
        None,
        None,
        3,
        2,
        None,
        value=None,
    )
    assert unclicked is selection.no_update


def test_a_click_elsewhere_does_not_read_the_card_store():
    # a clear click with a card click still in its store: the selection goes
    chosen = triggered(
        f"{ids.CLEAR_SELECTION}.n_clicks",
        selection.update_selection,
        None,
        None,
        {"cluster": 1, "at": 1764190000000},
        1,
        None,
        3,
        2,
        {"cluster": 1},
    )
    assert chosen is None


@pytest.mark.parametrize(
    "prop",
    [
        f"{ids.CLEAR_SELECTION}.n_clicks",
        f"{ids.K_SLIDER}.value",
        f"{ids.DATASET_STORE}.data",
    ],
)
def test_clear_new_k_or_new_dataset_reset_the_selection(prop):
    args = (None, None, None, 1, None, 4, 2)
    assert triggered(prop, selection.update_selection, *args, {"cluster": 1}) is None
    assert (
        triggered(prop, selection.update_selection, *args, None) is selection.no_update
    )


def test_selection_summary_and_table(dataset, reference):
    customers = reference[1].customers
    chosen = {"cluster": 2}
    summary, rows, count = selection.render_selection(dataset, 3, ANOMALY_PCT, chosen)
    in_cluster = customers[customers[schema.VALUE_CLUSTER] == 2]
    n = len(in_cluster)
    assert f"B('{n:,}')" in str(summary)
    assert f"of {len(customers):,} customers" in str(summary)
    # every customer of the cluster, not only the first page
    assert len(rows) == n
    assert {row["id"] for row in rows} == set(
        in_cluster[schema.CUSTOMER_ID].astype(str)
    )
    assert count == (
        f"25 of {n:,} customers shown" if n > 25 else f"{n} customers selected"
    )
    # first row: the selection's biggest spender (plain pandas)
    top = in_cluster.loc[in_cluster[schema.MONETARY].idxmax(), schema.CUSTOMER_ID]
    assert rows[0]["id"] == str(top)


def test_download_csv_equals_customers_csv(dataset, reference):
    sent = download.download_customers(1, "all", dataset, 3, ANOMALY_PCT, None)
    assert sent["content"] == segmentation.customers_csv(reference[1].customers)
    assert sent["filename"] == "mine_k3_customers.csv"


def test_download_selection_only(dataset, reference):
    customers = reference[1].customers
    tier, style = customers.iloc[0][[schema.VALUE_TIER, schema.PURCHASE_STYLE]]
    chosen = {"cell": [tier, style]}
    sent = download.download_customers(1, "selection", dataset, 3, ANOMALY_PCT, chosen)
    rows = pd.read_csv(io.StringIO(sent["content"]), dtype=str)
    expected = customers[
        (customers[schema.VALUE_TIER] == tier)
        & (customers[schema.PURCHASE_STYLE] == style)
    ]
    assert len(rows) == len(expected)
    wanted = set(expected[schema.CUSTOMER_ID].astype(str))
    assert set(rows[schema.CUSTOMER_ID]) == wanted


def test_run_report_download_holds_what_reproduces_the_run(dataset, reference, sample):
    prepared, result = reference
    sent = download.download_report(1, dataset, 3, ANOMALY_PCT)
    assert sent["filename"] == "mine_k3_run.json"
    assert sent["type"] == "application/json"
    report = json.loads(sent["content"])
    assert set(report) == {
        "input", "mapping", "cleaning", "as_of", "settings", "diagnostics",
        "stability", "customers", "value_clusters", "personas", "grid", "versions",
        "method", "method_fit", "method_comparison",
    }  # fmt: skip
    assert report["method"] == "kmeans" and report["method_fit"]["kept"] == "kmeans"
    # the file: the name it was uploaded under, the hash of its bytes
    assert report["input"]["file"] == "mine.csv"
    assert report["input"]["sha256"] == hashlib.sha256(sample).hexdigest()
    assert report["input"]["format"] == "csv"
    assert report["mapping"]["customer_id"] == "CustomerID"
    # the run: this k and sensitivity, dated the day after the last invoice
    assert report["settings"] == {"k": 3, "seed": 0, "anomaly_share": ANOMALY_PCT / 100}
    dates = pd.read_csv(io.BytesIO(sample), usecols=["InvoiceDate"])["InvoiceDate"]
    as_of = pd.to_datetime(dates).max().normalize() + pd.Timedelta(days=1)
    assert report["as_of"] == as_of.date().isoformat()
    # what it found: every line of the sample, the engine's customers and tiers
    assert report["cleaning"]["rows_in"] == 32_291
    assert report["cleaning"]["counts"] == prepared.report.counts
    assert report["customers"] == len(result.customers)
    tiers = result.customers.groupby(schema.VALUE_CLUSTER)  # plain pandas
    names, sizes = tiers[schema.VALUE_TIER].first(), tiers.size()
    clusters = report["value_clusters"]
    assert [c["value_tier"] for c in clusters] == names.tolist()
    assert [c["customers"] for c in clusters] == sizes.tolist()
    assert all("persona" not in c for c in clusters)  # personas: tier x status
    # one persona per value tier x status group, counted by plain pandas
    groups = result.customers.groupby([schema.VALUE_CLUSTER, schema.CUSTOMER_STATUS])
    first = groups[schema.PERSONA].first()
    assert groups[schema.PERSONA].unique().map(len).eq(1).all()  # one per group
    personas = report["personas"]
    assert [(p["value_cluster"], p["status"]) for p in personas] == list(first.index)
    assert [p["persona"] for p in personas] == first.tolist()
    assert [p["customers"] for p in personas] == groups.size().tolist()
    assert sum(cell["customers"] for cell in report["grid"]) == len(result.customers)
    assert all("persona" not in cell for cell in report["grid"])
    # the k sweep: its table with stability, the votes and the majority's k
    diagnostics = report["diagnostics"]
    assert diagnostics["recommended_k"] == prepared.diagnostics.recommended_k
    table = pd.DataFrame(diagnostics["table"]).set_index("k")
    pd.testing.assert_frame_equal(table, prepared.diagnostics.table, check_names=False)
    assert "stability" in table.columns
    votes = diagnostics["votes"]
    assert votes == prepared.diagnostics.votes
    tally = pd.Series(list(votes.values())).value_counts()
    assert tally[diagnostics["recommended_k"]] == tally.max()  # a majority's k


def test_receipt_and_diagnostics(dataset, reference):
    prepared = reference[0]
    receipt, title = panels.render_receipt(dataset)
    assert f"{prepared.report.rows_in:,}" in str(receipt)
    assert title.endswith(segmentation.SAMPLE_NAME) or "mine.csv" in title
    fig, rule = panels.render_diagnostics(dataset, 5)
    # inertia, silhouette, Davies–Bouldin, Calinski–Harabasz and stability
    assert len(fig.data) == 5
    stability = prepared.diagnostics.table["stability"]
    assert list(fig.data[4].y) == stability.tolist()
    assert "Chosen k = 5" in rule
    assert str(prepared.diagnostics.recommended_k) in rule
    patch, rule = panels.move_chosen_k(7, dataset)  # a k change: a few bytes
    assert "Chosen k = 7" in rule
    assert len(json.dumps(patch.to_plotly_json())) < 1_000


def test_every_k_is_segmented_ahead_in_the_background(dataset):
    ready = panels.segment_every_k(dataset, ANOMALY_PCT)
    assert ready == {
        "id": dataset["id"],
        "anomaly_share": ANOMALY_PCT / 100,
        "k": list(range(2, 11)),
    }
    store = storage.get_store()
    for k in range(2, 11):
        key = ("segmentation", dataset["id"], (), k, ANOMALY_PCT / 100, 0)
        assert key in store.cache, k  # so a k change only reads the store


def test_warming_stops_at_a_k_larger_than_the_customers(dataset):
    three = (
        b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
        b"1,a,2024-01-01,1,10\n2,b,2024-01-02,2,20\n3,c,2024-01-05,3,90\n"
    )
    few, _status = upload.ingest(three, "three.csv")  # the store of `dataset`
    # three customers hold two or three value tiers, not four
    assert panels.segment_every_k(few, ANOMALY_PCT)["k"] == [2, 3]


def test_on_error_shows_engine_messages_and_hides_bugs(caplog):
    assert (
        errors.error_message(SegmentationError("file x.csv: no customer column"))
        == "file x.csv: no customer column"
    )
    with caplog.at_level(logging.ERROR):
        try:
            raise RuntimeError("internal detail")
        except RuntimeError as exc:
            message = errors.error_message(exc)
    assert message == errors.GENERIC_MESSAGE
    assert "internal detail" in caplog.text  # traceback logged server-side


def test_create_app_registers_the_stable_ids(tmp_path):
    app = create_app(tmp_path)
    page = str(app.layout())
    for name in (
        "UPLOAD",
        "SAMPLE_BUTTON",
        "K_SLIDER",
        "RUN_STATUS",
        "CANCEL_BUTTON",
        "CLEANING_RECEIPT",
        "VALUE_STYLE_GRID",
        "CUSTOMER_SCATTER",
        "FEATURE_HEATMAP",
        "PERSONA_CARDS",
        "K_DIAGNOSTICS",
        "SELECTION_SUMMARY",
        "CLEAR_SELECTION",
        "DOWNLOAD_BUTTON",
        "ERROR_ALERT",
    ):
        assert f"'{getattr(ids, name)}'" in page


@pytest.mark.realdata
def test_real_export_download_matches_the_command_line(
    retail_csv, retail_prepared, tmp_path_factory
):
    store = storage.configure(tmp_path_factory.mktemp("real"))
    sha = store.put_upload(retail_csv.read_bytes(), retail_csv.name)
    real, _status = upload.prepare_stored(sha, retail_csv.name)  # as the job does
    grid = panels.render_panels(real, 4, ANOMALY_PCT, None, "customers")[0]
    customers = store.prepared(sha).features
    assert sum(sum(row) for row in grid.data[0].z) == len(customers)
    # README: classic cleaning leaves 4,338 customers; the engine also drops
    # non-product lines (postage...), so a few customers with only those go.
    assert 4_300 <= len(customers) <= 4_338
    # The app's download is the engine's customers table of the same file and k,
    # byte for byte: the file the command line writes (that the command line
    # writes exactly this is tests/test_cli_realdata.py's check).
    sent = download.download_customers(1, "all", real, 4, ANOMALY_PCT, None)
    run = segmentation.segment(retail_prepared, 4, anomaly_share=ANOMALY_PCT / 100)
    assert sent["content"] == segmentation.customers_csv(run.customers)
