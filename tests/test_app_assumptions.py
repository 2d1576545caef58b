"""The app says what it assumed, asks which column is which, and reads as told.

Issue "Right numbers on real exports ... and a receipt that speaks up"; DESIGN
sections 3, 4 and 7. Callbacks are called as plain functions.
"""

from __future__ import annotations

import itertools
from contextvars import copy_context
from pathlib import Path

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import segmentation
from app import ids, layout, storage
from app.callbacks import panels, upload
from app.callbacks.common import current_prepared
from app.components import controls, mapping
from segmentation import schema
from tests.dash_text import text_of
from tests.staged_uploads import staged
from tests.test_app_callbacks import unusual_export

EXPORTS = Path(__file__).parent / "data" / "exports"


def triggered(prop_id: str, **inputs):
    """Run ``upload.load_dataset`` as if Dash had called it for ``prop_id``."""
    args = {
        "uploaded": None,
        "sample_clicks": None,
        "apply_clicks": None,
        "view": None,
        "choices": [],
        "choice_ids": [],
        "pending": None,
        **inputs,
    }

    def run():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}])
        )
        return upload.load_dataset(lambda _: None, **args)

    return copy_context().run(run)


def upload_file(data: bytes, name: str, **inputs):
    return triggered(
        f"{ids.UPLOADED_STORE}.data", uploaded=staged(data, name), **inputs
    )


def dropdowns(children) -> dict[str, dict]:
    """Return the mapping dropdowns of the form: canonical -> its props."""
    found = {}

    def walk(node):
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
            return
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == ids.MAPPING_CHOICE_TYPE:
            found[node_id["index"]] = {"options": node.options, "value": node.value}
        children = getattr(node, "children", None)  # a Component may be falsy
        if children is not None and not isinstance(children, str):
            walk(children)

    walk(children)
    return found


@pytest.fixture
def store(tmp_path):
    return storage.configure(tmp_path)


@pytest.fixture(scope="module")
def retail_head(retail_csv) -> bytes:
    """The header and first 1,500 lines of Online Retail I (36 repeated rows)."""
    with retail_csv.open("rb") as source:
        return b"".join(itertools.islice(source, 1_501))


# The assumptions above the panels -----------------------------------------------
def test_every_assumption_of_the_dataset_is_listed_above_the_panels(store):
    dataset = triggered(f"{ids.SAMPLE_BUTTON}.n_clicks", sample_clicks=1)[0]
    prepared = current_prepared(dataset)
    children, is_open = panels.render_assumptions(dataset)
    bullets = [li.children for li in children[1].children]
    assert bullets == [*prepared.notes, *prepared.report.rules]
    assert prepared.report.rules and is_open
    assert children[1].id == ids.ASSUMPTIONS_LIST
    assert segmentation.SAMPLE_NAME in text_of(children[0])


def test_the_assumptions_stand_above_the_panels():
    page = str(layout.serve_layout())
    assert page.index(f"id='{ids.ASSUMPTIONS}'") < page.index(
        f"id='{ids.VALUE_STYLE_GRID}'"
    )


def test_the_receipt_shows_every_bucket_and_the_rules(store):
    dataset = triggered(f"{ids.SAMPLE_BUTTON}.n_clicks", sample_clicks=1)[0]
    receipt = text_of(panels.render_receipt(dataset)[0])
    for reason in ("summary row", "cancelled order", "exact duplicate", "kept"):
        assert reason in receipt
    assert "Rules applied" in receipt
    for rule in current_prepared(dataset).report.rules:
        assert rule in receipt


# The mapping form: a question, every column ----------------------------------------
def test_the_mapping_form_asks_for_every_canonical_column(store):
    result = upload_file(unusual_export(), "shop.csv")
    stored, message, is_open, status, fields, style, pending = result
    assert stored is upload.no_update and style == upload.SHOWN
    assert not is_open and message is None  # a question, not a red error
    assert "Which column is which?" in status and "shop.csv" in status
    text = text_of(fields)
    assert mapping.TITLE in text and "shop.csv" in text and "customer" in text
    choices = dropdowns(fields)
    assert list(choices) == list(mapping.FORM_COLUMNS)
    assert set(choices) == set(schema.CANONICAL_COLUMNS)
    required = [*schema.REQUIRED_COLUMNS, schema.UNIT_PRICE]
    assert list(choices)[: len(required)] == required  # required first
    headers = ["Cust Code", "Order No", "Order Date", "Qty", "Price"]
    assert all(c["options"] == headers for c in choices.values())
    assert choices["customer_id"]["value"] is None  # the one to choose
    assert choices["invoice_id"]["value"] == "Order No"  # recognised: pre-selected
    assert choices["invoice_date"]["value"] == "Order Date"
    assert choices["quantity"]["value"] == "Qty"
    assert choices["unit_price"]["value"] == "Price"
    assert pending == {
        "id": storage.content_id(unusual_export()),
        "filename": "shop.csv",
    }


def test_an_incomplete_choice_asks_again_with_the_choices_kept(store):
    pending = upload_file(unusual_export(), "shop.csv")[6]
    again = triggered(
        f"{ids.MAPPING_APPLY}.n_clicks",
        apply_clicks=1,
        choices=["Qty", None],  # the customer left empty, quantity changed
        choice_ids=[ids.mapping_choice("quantity"), ids.mapping_choice("customer_id")],
        pending=pending,
    )
    choices = dropdowns(again[4])
    assert again[5] == upload.SHOWN and again[6] == pending and not again[2]
    assert choices["quantity"]["value"] == "Qty"  # the user's last choice
    assert choices["customer_id"]["value"] is None
    assert choices["invoice_date"]["value"] == "Order Date"  # still recognised


def test_recognised_headers_leave_ties_to_the_user():
    found = mapping.recognised_headers(["Customer", "Client", "Date", "Date "])
    assert found["customer_id"] == "Customer"  # earlier synonym wins
    assert "invoice_date" not in found  # two equal candidates: the user chooses


# Reading settings: duplicates and the date order --------------------------------------
def test_the_store_keeps_day_first_and_month_first_apart(store):
    data = (EXPORTS / "ambiguous_dates.csv").read_bytes()
    sha = store.put_upload(data, "ambiguous_dates.csv")
    day = store.prepared(sha, day_first=True)
    month = store.prepared(sha, day_first=False)
    assert day.as_of != month.as_of
    assert store.prepared(sha, day_first=True) is day  # cached per setting
    keys = {k for k in store.cache if k[0] == "prepared"}
    assert keys == {
        ("prepared", sha, (), *storage.read_key(day_first=True)),
        ("prepared", sha, (), *storage.read_key(day_first=False)),
    }
    assert storage.read_key() == ()  # default keys keep their old shape


def test_changing_the_date_order_reads_the_dataset_again(store):
    data = (EXPORTS / "ambiguous_dates.csv").read_bytes()
    shown = upload_file(data, "ambiguous_dates.csv")[0]
    assert "day_first" not in shown
    for choice, day_first in (("day", True), ("month", False)):
        result = triggered(f"{ids.DATE_ORDER}.value", date_order=choice, dataset=shown)
        dataset, _message, is_open, status = result[:4]
        assert dataset == {**shown, "day_first": day_first}
        assert not is_open and "ambiguous_dates.csv" in status
        assert result[4:] == (upload.no_update,) * 3  # a waiting form stays
    as_of = {
        day: current_prepared({**shown, "day_first": day}).as_of
        for day in (True, False)
    }
    assert as_of[True] != as_of[False]


def test_the_duplicates_switch_keeps_repeated_rows(store, retail_head):
    shown = upload_file(retail_head, "head.csv")[0]
    kept = triggered(
        f"{ids.DUPLICATES_SWITCH}.value", remove_duplicates=False, dataset=shown
    )[0]
    assert kept == {**shown, "drop_duplicates": False}
    removed, counted = current_prepared(shown).report, current_prepared(kept).report
    assert removed.counts["exact_duplicate"] > 0
    assert counted.counts["exact_duplicate"] == 0
    assert counted.kept == removed.kept + removed.counts["exact_duplicate"]
    assert removed.rules != counted.rules  # the receipt says which policy ran


def test_a_new_upload_is_read_with_the_current_settings(store):
    data = (EXPORTS / "ambiguous_dates.csv").read_bytes()
    dataset = upload_file(data, "a.csv", date_order="month", remove_duplicates=False)[0]
    assert dataset["day_first"] is False and dataset["drop_duplicates"] is False


@pytest.mark.parametrize(
    ("choice", "day_first"),
    [("auto", None), ("day", True), ("month", False), (None, None)],
)
def test_the_dates_choice_maps_to_day_first(choice, day_first):
    assert controls.day_first_of(choice) is day_first
    if choice:
        assert controls.date_order_of(day_first) == choice


def test_the_controls_sit_near_the_upload():
    column = str(controls.control_column())
    upload_at = column.index(f"id='{ids.UPLOAD}'")
    assert upload_at < column.index(f"id='{ids.DUPLICATES_SWITCH}'")
    assert column.index(f"id='{ids.DATE_ORDER}'") < column.index(f"id='{ids.K_SLIDER}'")
    assert "Remove duplicate lines" in column and "Decide from the data" in column


def test_a_file_without_header_row_is_explained_not_offered_empty_choices(store):
    data = (EXPORTS / "yyyymmdd_log.txt").read_bytes()
    stored, _message, is_open, _status, fields, style, _ = upload_file(data, "log.txt")
    assert stored is upload.no_update and not is_open and style == upload.SHOWN
    assert dropdowns(fields) == {}
    text = text_of(fields)
    assert "log.txt has no header row" in text and "00001 20101214" in text
