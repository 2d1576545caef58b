"""The models are imported while a workbook parses, not before it.

``pipeline.prepare`` hands ``_warm_imports.start`` to the loader as
``on_long_parse``; the loader calls it once, when its checks have passed and a
workbook's first whole sheet is parsed (the reader releases the GIL meanwhile).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from segmentation import _warm_imports
from segmentation.errors import ColumnMappingError, LimitExceededError
from segmentation.loading import Limits, load_transactions
from tests.test_loading_messy import _declare_size, _xlsx

HEADER = [
    "InvoiceNo",
    "StockCode",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
]
ROWS = [
    ["536365", "85123A", 6, "2010-12-01 08:26", 2.55, 17850],
    ["536366", "22633", 6, "2010-12-01 08:28", 1.85, 17850],
    ["536367", "84879", 32, "2010-12-01 08:34", 1.69, 13047],
]


class Calls:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_called_once_for_a_workbook_with_a_cover_sheet_and_two_data_sheets():
    data = _xlsx(
        {
            "Cover": [["Sales export"], ["made for the board"]],
            "2010": [HEADER, *ROWS],
            "2011": [HEADER, *ROWS],
        }
    )
    calls = Calls()
    table = load_transactions(data, filename="book.xlsx", on_long_parse=calls)
    assert table.sheets_read == ["2010", "2011"]
    assert len(table.lines) == 6
    assert calls.count == 1


def _csv_text() -> str:
    return "\n".join(",".join(map(str, row)) for row in [HEADER, *ROWS]) + "\n"


def test_not_called_for_a_csv():
    calls = Calls()
    table = load_transactions(
        _csv_text().encode(), filename="lines.csv", on_long_parse=calls
    )
    assert len(table.lines) == 3
    assert calls.count == 0


def test_not_called_when_the_checks_before_parsing_refuse_the_file():
    data = _xlsx({"Data": [HEADER, *ROWS]})
    bomb = _declare_size(data, "xl/worksheets/sheet1.xml", 0xF000_0000)
    calls = Calls()
    with pytest.raises(LimitExceededError):
        load_transactions(bomb, filename="bomb.xlsx", on_long_parse=calls)
    with pytest.raises(LimitExceededError):
        load_transactions(
            data, filename="big.xlsx", limits=Limits(max_bytes=100), on_long_parse=calls
        )
    assert calls.count == 0


def test_a_workbook_without_the_columns_still_fails_with_its_own_message():
    data = _xlsx({"Data": [["Name", "Town"], ["Ann", "Leeds"]]})
    calls = Calls()
    with pytest.raises(ColumnMappingError, match=r"book\.xlsx"):
        load_transactions(data, filename="book.xlsx", on_long_parse=calls)
    assert calls.count == 1  # the headers are known only once the sheet is parsed


def _module(tmp_path, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body)
    return name


def test_start_imports_the_missing_modules_in_a_thread(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = _module(
        tmp_path,
        "warm_probe_ok",
        "import threading\nTHREAD = threading.current_thread().name\n",
    )
    monkeypatch.delitem(sys.modules, name, raising=False)
    thread = _warm_imports.start((name,))
    assert isinstance(thread, threading.Thread)
    assert not thread.daemon  # exit waits: no half-imported C extension
    thread.join(timeout=30)
    assert sys.modules[name].THREAD == "segmentation-imports"
    assert _warm_imports.start((name,)) is None  # nothing left to import


def test_a_failing_import_is_left_to_the_callers_own_import(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    bad = _module(tmp_path, "warm_probe_bad", "raise ImportError('no such library')\n")
    after = _module(tmp_path, "warm_probe_after", "X = 1\n")
    for name in (bad, after):
        monkeypatch.delitem(sys.modules, name, raising=False)
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    _warm_imports.start((bad, after)).join(timeout=30)
    assert failures == []  # nothing escaped the thread
    assert bad not in sys.modules
    assert after not in sys.modules  # it stops at the first failure
    with pytest.raises(ImportError, match="no such library"):
        __import__(bad)


def _passes_in_a_fresh_interpreter(script: str) -> None:
    """Run ``script`` in a new Python (nothing imported yet); it prints "ok"."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_pipeline_imports_scikit_learn_only_once_a_workbook_parses(tmp_path):
    book = tmp_path / "book.xlsx"
    book.write_bytes(_xlsx({"Data": [HEADER, *ROWS]}))
    csv = tmp_path / "lines.csv"
    csv.write_text(_csv_text())
    script = f"""
        import sys
        from segmentation import pipeline
        assert "sklearn" not in sys.modules, "importing the pipeline loads sklearn"
        pipeline.prepare({str(csv)!r}, diagnostics=False)
        assert "sklearn" not in sys.modules, "a CSV without the sweep loads sklearn"
        pipeline.prepare({str(book)!r}, diagnostics=False)
        import threading
        for thread in threading.enumerate():
            if thread.name == "segmentation-imports":
                thread.join()
        assert "segmentation.clustering" in sys.modules
        assert "kneed" in sys.modules
        print("ok")
        """
    _passes_in_a_fresh_interpreter(script)


def test_the_app_imports_the_models_at_start_up(tmp_path):
    script = f"""
        import sys
        from app import JOB_PRELOAD, create_app
        from segmentation._warm_imports import MODEL_MODULES
        create_app({str(tmp_path)!r})
        missing = [m for m in MODEL_MODULES if m not in sys.modules]
        assert not missing, missing
        assert set(MODEL_MODULES) <= set(JOB_PRELOAD)
        print("ok")
        """
    _passes_in_a_fresh_interpreter(script)
