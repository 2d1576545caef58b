"""Column mapping: the form's preview of the file, and the mapping remembered."""

from __future__ import annotations

import io

import openpyxl
import pytest

import segmentation
from app import ids, storage
from app.callbacks import upload
from segmentation.io import file_preview
from tests.staged_uploads import staged
from tests.test_app_callbacks import triggered, unusual_export


@pytest.fixture
def store(tmp_path):
    return storage.configure(tmp_path)


def upload_file(data: bytes, name: str = "shop.csv"):
    return triggered(
        f"{ids.UPLOADED_STORE}.data",
        upload.load_dataset,
        lambda _: None,
        staged(data, name),
        None,
        None,
        None,
        [],
        [],
        None,
    )


def apply(pending, choices: dict[str, str]):
    choice_ids = [ids.mapping_choice(c) for c in choices]
    return triggered(
        f"{ids.MAPPING_APPLY}.n_clicks",
        upload.load_dataset,
        lambda _: None,
        None,
        None,
        1,
        None,
        list(choices.values()),
        choice_ids,
        pending,
    )


def test_the_form_shows_the_first_rows_of_the_file(store):
    fields = str(upload_file(unusual_export())[4])
    # unusual_export's first line: customer 0, order 0: K000,0-0,2024-03-01,1,2.5
    assert "First 5 rows of the file" in fields
    assert "K000" in fields and "2024-03-01" in fields and "0-0" in fields
    assert "K001" in fields and "K002" not in fields  # 5 rows = K000 x3, K001 x2


def test_a_mapping_is_remembered_for_the_same_file(store, monkeypatch):
    data = unusual_export()
    pending = upload_file(data)[6]
    applied = apply(pending, {"customer_id": "Cust Code"})
    assert store.mapping_for(pending["id"]) == {"customer_id": "Cust Code"}
    again = upload_file(data, "shop (copy).csv")  # same bytes, straight to panels
    dataset, message, is_open, status, _fields, style, waiting = again
    assert dataset == {**applied[0], "filename": "shop (copy).csv"}
    assert not is_open and message is None and style == upload.HIDDEN
    assert waiting is None and upload.REMEMBERED in status
    other = unusual_export().replace(b"K000", b"K999")  # other bytes: asked again
    assert upload_file(other)[5] == upload.SHOWN


def test_a_failed_mapping_is_not_remembered(store):
    pending = upload_file(unusual_export())[6]
    failed = apply(pending, {})  # nothing chosen: the form is shown again
    assert failed[5] == upload.SHOWN and failed[6] == pending
    assert store.mapping_for(pending["id"]) is None


def test_sample_needs_no_mapping(store):
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
    assert result[0]["mapping"] is None and upload.REMEMBERED not in result[3]
    assert store.mapping_for(storage.content_id(segmentation.load_sample())) is None


def test_preview_skips_title_lines_and_reads_semicolons():
    data = (
        b"Sales export March\n"
        b"Beleg;Kunde;Datum;Menge;Preis\n"
        b"A1;17850;2011-01-02 10:00;3;2,5\n\n"
        b"A2;13047;2011-01-03;2;1,5\n"
    )
    table = file_preview(data, ["Beleg", "Kunde", "Datum", "Menge", "Preis"])
    assert table.to_numpy().tolist() == [
        ["A1", "17850", "2011-01-02 10:00", "3", "2,5"],
        ["A2", "13047", "2011-01-03", "2", "1,5"],
    ]  # the blank line is skipped


def test_preview_reads_the_first_sheet_of_a_workbook():
    book = openpyxl.Workbook()
    book.active.append(["Cust Code", "When"])
    book.active.append(["K1", "2024-01-02"])
    buffer = io.BytesIO()
    book.save(buffer)
    table = file_preview(buffer.getvalue(), ["Cust Code", "When"])
    assert table.to_numpy().tolist() == [["K1", "2024-01-02"]]


@pytest.mark.parametrize("data", [b"%PDF-1.4 garbage", b"", b"PK\x03\x04broken"])
def test_preview_of_an_unreadable_file_is_none(data):
    assert file_preview(data, ["a", "b"]) is None
